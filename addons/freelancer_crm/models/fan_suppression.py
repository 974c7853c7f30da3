import hashlib
import hmac
import secrets

from odoo import api, fields, models


class FanSuppression(models.Model):
    """Keyed hash of a contact key erased at the person's request.

    Only the digest is kept, so the erased email, mobile or OpenID cannot be
    read back, yet an import that brings the same key again is recognised
    and refused.
    """

    _name = "fan.suppression"
    _description = "Erased Contact Suppression"
    _order = "create_date desc, id desc"
    _rec_name = "digest"

    channel = fields.Selection(
        [("email", "Email"), ("mobile", "Mobile"), ("identity", "Channel Identity")],
        required=True,
    )
    digest = fields.Char(required=True, index=True)

    _digest_unique = models.Constraint("UNIQUE(channel, digest)", "Already suppressed.")

    @api.model
    def _digest(self, channel, value):
        params = self.env["ir.config_parameter"].sudo()
        key = params.get_param("freelancer_crm.suppression_key")
        if not key:
            key = secrets.token_hex(32)
            params.set_param("freelancer_crm.suppression_key", key)
        message = f"{channel}:{value}".encode()
        return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()

    @api.model
    def _suppress(self, channel, value):
        if not value:
            return
        digest = self._digest(channel, value)
        if not self.sudo().search_count([("channel", "=", channel), ("digest", "=", digest)]):
            self.sudo().create({"channel": channel, "digest": digest})

    @api.model
    def _is_suppressed(self, channel, value):
        if not value:
            return False
        digest = self._digest(channel, value)
        return bool(self.sudo().search_count([("channel", "=", channel), ("digest", "=", digest)]))
