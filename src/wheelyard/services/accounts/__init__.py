"""Accounts: users, passwords (argon2id), logins and their limits, two-factor login,
API tokens, password resets and the mail that carries them. Imports no other domain.
"""
