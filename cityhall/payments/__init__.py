"""Fees and fines paid by card (DESIGN.md: cityhall/payments/).

The payer is sent to the provider's hosted page (django-payments: Stripe in production, the demo
provider under `make run`); card numbers never reach City Hall. What can be paid is registered
by the apps that own it (`registry.register`), so this package imports no app.
"""
