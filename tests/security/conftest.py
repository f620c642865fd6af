"""Fixtures of the security tests: the review tests' seeded gateway with a signed-in
client per role (supervisor, agent, admin, anonymous), reused as is."""

from tests.staff.review.conftest import Client, World, world  # noqa: F401  (pytest fixture)
