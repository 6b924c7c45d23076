"""The case database: applicants, cases and everything that happens to them, for staff and for the citizen.

- models.py: the tables (SQLAlchemy 2.0 typed models);
- states.py: the case states and the one table of allowed transitions, with the inputs each requires;
- numbers.py: readable case numbers (BB20261122-0007), unique across workers;
- service.py: opening a case and moving it, each change written to the audit trail in the caller's transaction;
- masking.py: personal data as lists and logs show it.
"""
