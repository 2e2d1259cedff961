"""The hexbank domain: users, accounts, money and the double-entry ledger.

Pure Python by rule: nothing here imports a framework, a driver or another layer, so the
business rules can be read, tested and reused without any infrastructure.
"""
