"""Recompute the normalised mobile, which no longer holds landlines."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    Partner = env["res.partner"].with_context(active_test=False)
    partners = Partner.search([("fan_mobile", "!=", False)])
    env.add_to_compute(Partner._fields["fan_mobile"], partners)
    partners.flush_recordset(["fan_mobile"])
