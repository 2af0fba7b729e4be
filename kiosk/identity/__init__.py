"""Who the customer is: ports the journey calls, with demo adapters (SQLite, outbox) beside the
production ones (HTTP JSON services, SMTP)."""

from kiosk.identity.ports import (
    AccountCheck,
    AccountVerifier,
    CodeSender,
    Customer,
    CustomerDirectory,
    IdCardCheck,
    IdCheckOutcome,
    IdentityServiceUnavailable,
    WithdrawalAccount,
)

__all__ = [
    "AccountCheck",
    "AccountVerifier",
    "CodeSender",
    "Customer",
    "CustomerDirectory",
    "IdCardCheck",
    "IdCheckOutcome",
    "IdentityServiceUnavailable",
    "WithdrawalAccount",
]
