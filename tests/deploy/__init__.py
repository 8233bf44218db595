"""Deployment checks: the SCF code package, serverless.yml and the CI workflows."""
