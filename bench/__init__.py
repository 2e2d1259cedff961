"""`make bench`: hexbank side by side with a tutorial baseline and the HTTP and database limits."""
