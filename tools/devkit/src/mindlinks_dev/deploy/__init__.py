"""Deployment artifacts derived from the fleet declaration.

``compose`` writes ``docker-compose.yml``, ``terraform`` writes the Terraform
variables (``infra/terraform/fleet.auto.tfvars.json``); both from ``FLEET`` and
both checked by tests (``--check``). ``environment`` says which ``MINDLINKS_*``
variables a service gets in compose and on ECS, once for both. ``validate``
runs the static checks (HCL format and policy, checkov, hadolint, the compose
and workflow schemas) that stand in for a real account here.
"""
