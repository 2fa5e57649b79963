"""Events the licences app publishes (names are stable: other apps subscribe to them)."""

LICENCE_ISSUED = "licences.licence.issued"
"""A licence was issued (or a new version replaced an old one). Payload: identifier,
number, name, type_code, issuer_department_code, issued_on, valid_from, valid_until,
source, previous (identifier or null). No personal data."""

LICENCE_REVOKED = "licences.licence.revoked"
"""A licence was revoked. Payload: identifier, number, type_code, issuer_department_code,
revoked_at, reason, replaced_by (identifier of the new version, or null)."""
