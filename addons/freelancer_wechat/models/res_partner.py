import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)


class ResPartner(models.Model):
    _inherit = "res.partner"

    wechat_scene = fields.Char(
        string="WeChat QR Scene",
        help="Scene of the parametric QR code through which the fan first followed or scanned.",
    )

    @api.model
    def _wechat_find_fan(self, account, openid, unionid=""):
        """Return the fan with ``openid`` on ``account`` (or ``unionid``), or no record.

        When the identities point to different fans, the fan with the OpenID is
        returned because an OpenID is specific to the account. The fans are not merged.
        """
        identities = {"wechat_openid": openid}
        if unionid:
            identities["wechat_unionid"] = unionid
        partners = self._fan_find(identities, account_key=account.app_id)
        if len(partners) <= 1:
            return partners
        holder = (
            self.env["fan.identity"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", partners.ids),
                    ("channel", "=", "wechat_openid"),
                    ("account_key", "=", account.app_id),
                    ("value", "=", openid),
                ],
                limit=1,
            )
            .partner_id
        )
        _logger.warning(
            "WeChat identities of one follower of account %s belong to partners %s; using %s",
            account.id,
            partners.ids,
            holder.id or partners[0].id,
        )
        return holder or partners[:1]

    @api.model
    def _wechat_find_or_create_fan(self, account, openid, unionid="", scene=""):
        """Return the fan of ``openid`` on ``account``, created if none exists.

        The identities the fan lacks are added, and ``scene`` is kept as the
        fan's QR scene unless one is already recorded.
        """
        partner = self._wechat_find_fan(account, openid, unionid)
        if not partner:
            vals = self._fan_prepare_vals(
                name=self.env._("WeChat Fan %(suffix)s", suffix=openid[-6:]),
                fan_source="wechat",
            )
            partner = self.create(vals)
            _logger.info("Fan %s created from WeChat account %s", partner.id, account.id)
        elif not partner.is_fan:
            partner.is_fan = True
        identities = {"wechat_openid": openid}
        if unionid:
            identities["wechat_unionid"] = unionid
        partner._fan_add_identities(identities, account_key=account.app_id, source="wechat")
        partner._wechat_set_scene(scene)
        return partner

    def _wechat_set_scene(self, scene):
        for partner in self:
            if scene and not partner.wechat_scene:
                partner.wechat_scene = scene
