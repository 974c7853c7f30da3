from odoo import fields, models


class WechatAccessToken(models.Model):
    """The one access token of an Official Account, shared by every worker process.

    No group has access rights on this model: only code running as superuser
    reads it, and the token never reaches a view or a log. Rows are written
    with SQL under a row lock by ``wechat.account._wechat_refresh_token``.
    """

    _name = "wechat.access.token"
    _description = "WeChat Access Token"
    _rec_name = "account_id"

    account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        required=True,
        ondelete="cascade",
    )
    access_token = fields.Char(copy=False)
    expires_at = fields.Datetime(copy=False)
    fetch_count = fields.Integer(
        copy=False, help="Number of tokens fetched from WeChat for this account."
    )

    _account_unique = models.Constraint(
        "UNIQUE(account_id)", "An Official Account has a single access token."
    )
