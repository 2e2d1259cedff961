"""Email syntax checks with email-validator; no DNS lookups, so no network on the hot path."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from application.ports.email_normalizer import EmailNormalizer
from domain.errors import InvalidEmail
from domain.user import EMAIL_MAX_LENGTH


class EmailValidatorNormalizer(EmailNormalizer):
    def normalize(self, raw: str) -> str:
        """email-validator's normalized form (NFC, domain in lower case), then lower-cased
        whole, so `Ann@Example.com` and `ann@example.com` are one address."""
        if len(raw) > EMAIL_MAX_LENGTH:
            raise InvalidEmail(f"An email address is at most {EMAIL_MAX_LENGTH} characters long.")
        try:
            valid = validate_email(raw, check_deliverability=False)
        except (EmailNotValidError, UnicodeError) as error:
            raise InvalidEmail(str(error)) from error
        return valid.normalized.lower()
