"""``make fuzz``: hostile input against a fleet of real processes — the token
and webhook attack table, hostile bytes, the authorization matrix and
schemathesis once per role — plus bandit over the code (``__main__``)."""
