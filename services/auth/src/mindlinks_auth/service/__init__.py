"""Auth's use cases, one module per seam: ``accounts`` (registration,
verification, password reset, suspension, second factor, operator-created
admins) and ``sessions`` (signing in and staying signed in). Each use case
owns its unit of work; the rules and values are ``domain``'s, the Redis,
KMS and Secrets Manager mechanics are ``tokens``, ``throttle``, ``mfa`` and
``keys``'."""
