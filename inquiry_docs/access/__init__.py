"""Who may do what, and the record of what they did: inquiries, accounts and memberships,
sign-in with passwords and two-factor codes, API tokens, every permission decision
(`permissions`), and the hash-chained audit trail with its queries."""
