import logging
import uuid
from datetime import datetime, time
from zoneinfo import ZoneInfo

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain

from .wechat_account_api import WechatApiError

_logger = logging.getLogger(__name__)

BEIJING = ZoneInfo("Asia/Shanghai")
# errcode of a sendall whose clientmsgid was already used. The first send is kept.
CLIENTMSGID_EXISTS = 45065
# A verified subscription account gets one successful mass send per Beijing
# calendar day. A verified service account may call sendall 100 times a day,
# but each follower receives at most 4 mass sends per calendar month: WeChat
# drops the followers over that limit from a send (its FilterCount).
SUBSCRIPTION_SENDS_PER_DAY = 1
SERVICE_SENDS_PER_DAY = 100
SERVICE_SENDS_PER_FAN_PER_MONTH = 4
# msg_status of message/mass/get once a job has ended.
FINISHED_MASS_STATUSES = ("SEND_SUCCESS", "SEND_FAIL", "DELETE")


class WechatMassSend(models.Model):
    """One mass send (群发) of an article or a text to all followers or a tag."""

    _name = "wechat.mass.send"
    _description = "WeChat Mass Send"
    _order = "id desc"

    name = fields.Char(compute="_compute_name")
    account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        required=True,
        ondelete="cascade",
        index=True,
    )
    msg_type = fields.Selection(
        [("mpnews", "Article"), ("text", "Text")],
        string="Content",
        required=True,
        default="mpnews",
        help="Article: an article uploaded as a draft (mpnews). Text: a plain text message.",
    )
    article_id = fields.Many2one(
        comodel_name="wechat.article",
        domain="[('account_id', '=', account_id)]",
    )
    text_content = fields.Text(string="Text")
    target = fields.Selection(
        [("all", "All Followers"), ("tag", "Followers with a Tag")],
        required=True,
        default="all",
    )
    tag_id = fields.Many2one(
        comodel_name="wechat.tag",
        domain="[('account_id', '=', account_id), ('wechat_id', '!=', 0)]",
    )
    client_msg_id = fields.Char(
        string="Client Message ID",
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: uuid.uuid4().hex,
        help="Sent as clientmsgid: WeChat rejects a second send with the same value, so a "
        "retry after a timeout never reaches followers twice.",
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("sent", "Submitted"),
            ("done", "Finished"),
            ("failed", "Failed"),
        ],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
    )
    send_date = fields.Datetime(readonly=True, copy=False)
    msg_id = fields.Char(string="WeChat Msg ID", readonly=True, copy=False, index=True)
    msg_data_id = fields.Char(readonly=True, copy=False)
    job_status = fields.Char(
        readonly=True,
        copy=False,
        help="Status of the MASSSENDJOBFINISH event (e.g. send success), or msg_status of "
        "message/mass/get when the event did not arrive.",
    )
    total_count = fields.Integer(string="Followers Targeted", readonly=True, copy=False)
    filter_count = fields.Integer(
        string="After Filtering",
        readonly=True,
        copy=False,
        help="Followers left after WeChat removed those over their monthly limit.",
    )
    sent_count = fields.Integer(string="Sent", readonly=True, copy=False)
    error_count = fields.Integer(string="Errors", readonly=True, copy=False)
    partner_ids = fields.Many2many(
        comodel_name="res.partner",
        relation="wechat_mass_send_partner_rel",
        column1="mass_send_id",
        column2="partner_id",
        string="Fans Targeted",
        readonly=True,
        copy=False,
        help="Fans known in Odoo who followed the account (send to all) or had the tag (send "
        "to a tag) when the send was submitted. Each counts one marketing message.",
    )

    _client_msg_id_unique = models.Constraint(
        "UNIQUE(client_msg_id)", "Each mass send needs its own client message ID."
    )

    @api.depends("msg_type", "article_id.title", "text_content")
    def _compute_name(self):
        for send in self:
            if send.msg_type == "text":
                send.name = (send.text_content or "").strip()[:40]
            else:
                send.name = send.article_id.title or ""

    @api.constrains("msg_type", "article_id", "text_content")
    def _check_content(self):
        for send in self:
            if send.msg_type == "mpnews" and not send.article_id:
                raise ValidationError(self.env._("Choose the article to mass send."))
            if send.msg_type == "text" and not (send.text_content or "").strip():
                raise ValidationError(self.env._("Write the text to mass send."))

    # ------------------------------------------------------------
    # LIMITS
    # ------------------------------------------------------------

    @api.model
    def _period_start(self, period):
        """Return the UTC start of the current Beijing ``period``: "day" or "month"."""
        today = datetime.now(BEIJING).date()
        if period == "month":
            today = today.replace(day=1)
        start = datetime.combine(today, time.min, BEIJING)
        return start.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    @api.model
    def _count_submitted(self, account, since, exclude=None):
        return self.search_count(
            [
                ("account_id", "=", account.id),
                ("state", "in", ("sent", "done")),
                ("send_date", ">=", since),
                ("id", "not in", (exclude or self.browse()).ids),
            ]
        )

    @api.model
    def _get_send_blocked_reason(self, account, exclude=None):
        """Return why ``account`` cannot mass send now, or an empty string.

        Checks the per-account limits only: one send a day for subscription
        accounts, 100 sendall calls a day for service accounts.
        """
        today = self._period_start("day")
        count = self._count_submitted(account, today, exclude)
        if account.account_type == "subscription" and count >= SUBSCRIPTION_SENDS_PER_DAY:
            return self.env._(
                "“%(account)s” is a subscription account: WeChat allows one mass send a "
                "day, and today's has been sent. Send again tomorrow (Beijing time).",
                account=account.name,
            )
        if account.account_type == "service" and count >= SERVICE_SENDS_PER_DAY:
            return self.env._(
                "“%(account)s” made %(count)s mass sends today, the daily maximum of the "
                "WeChat API. Send again tomorrow (Beijing time).",
                account=account.name,
                count=count,
            )
        return ""

    @api.model
    def _receipt_counts(self, partners, since, account=None):
        """Return ``{partner_id: count}`` of the mass sends submitted to each fan since then."""
        if not partners:
            return {}
        query = """
            SELECT rel.partner_id, count(*)
              FROM wechat_mass_send_partner_rel rel
              JOIN wechat_mass_send send ON send.id = rel.mass_send_id
             WHERE send.state IN ('sent', 'done')
               AND send.send_date >= %s
               AND rel.partner_id = ANY(%s)
        """
        params = [since, partners.ids]
        if account:
            query += " AND send.account_id = %s"
            params.append(account.id)
        self.flush_model(["state", "send_date", "account_id", "partner_ids"])
        self.env.cr.execute(query + " GROUP BY rel.partner_id", params)
        return dict(self.env.cr.fetchall())

    @api.model
    def _partners_over_monthly_limit(self, account, partners):
        """Return the fans of a service account who received 4 mass sends this month.

        WeChat drops them from further mass sends until the month ends. Other
        account types have no per-follower limit.
        """
        if account.account_type != "service":
            return partners.browse()
        # NOTE: only sends made from Odoo count. WeChat also counts those made in
        # its back office, and drops those fans from the send without telling who.
        counts = self._receipt_counts(partners, self._period_start("month"), account)
        return partners.filtered(
            lambda partner: counts.get(partner.id, 0) >= SERVICE_SENDS_PER_FAN_PER_MONTH
        )

    def _get_target_partners(self):
        """Return the fans in Odoo that this send targets.

        A send to all targets the fans with WeChat consent (they follow the
        account) and an OpenID of this account. A send to a tag targets the
        fans Odoo tagged who still follow.
        """
        self.ensure_one()
        Partner = self.env["res.partner"].sudo()
        followers = Partner.search(
            Partner._fan_consent_domain("wechat")
            & Domain("fan_identity_ids.account_key", "=", self.account_id.app_id)
        )
        if self.target == "tag":
            return self.tag_id.partner_ids & followers
        return followers

    def _check_send_limit(self):
        self.ensure_one()
        account = self.account_id
        reason = self._get_send_blocked_reason(account, exclude=self)
        if reason:
            raise UserError(reason)
        targets = self._get_target_partners()
        if targets and targets == self._partners_over_monthly_limit(account, targets):
            raise UserError(
                self.env._(
                    "“%(account)s” is a service account: WeChat delivers at most %(max)s mass "
                    "sends a month to each follower, and all %(count)s followers of this send "
                    "have had them. Send again next month.",
                    account=account.name,
                    max=SERVICE_SENDS_PER_FAN_PER_MONTH,
                    count=len(targets),
                )
            )

    # ------------------------------------------------------------
    # SENDING
    # ------------------------------------------------------------

    def _sendall_payload(self):
        self.ensure_one()
        if self.target == "tag":
            if not self.tag_id.wechat_id:
                raise UserError(
                    self.env._("Choose a tag that exists on WeChat: push or pull the tags first.")
                )
            target = {"is_to_all": False, "tag_id": self.tag_id.wechat_id}
        else:
            target = {"is_to_all": True}
        payload = {
            "filter": target,
            "msgtype": self.msg_type,
            "clientmsgid": self.client_msg_id,
        }
        if self.msg_type == "text":
            payload["text"] = {"content": self.text_content.strip()}
        else:
            payload["mpnews"] = {"media_id": self.article_id.media_id}
            payload["send_ignore_reprint"] = 0
        return payload

    def action_send(self):
        """Submit the mass send; a retry reuses ``client_msg_id`` and cannot send twice."""
        for send in self:
            if send.state not in ("draft", "failed"):
                raise UserError(self.env._("This mass send was already submitted."))
            send._check_send_limit()
            if send.msg_type == "mpnews" and not send.article_id.media_id:
                send.article_id.action_upload_draft()
            payload = send._sendall_payload()
            targets = send._get_target_partners()
            try:
                result = send.account_id._wechat_call(
                    lambda client, payload=payload: client.post(
                        "message/mass/sendall", data=payload
                    ),
                    self.env._("Mass send"),
                )
            except WechatApiError as error:
                if error.errcode != CLIENTMSGID_EXISTS:
                    raise
                # WeChat returns the msg_id of the first submission with this errcode.
                result = error.result
                _logger.info(
                    "Mass send %s was already submitted to WeChat (clientmsgid reused)", send.id
                )
            send.write(
                {
                    "state": "sent",
                    "send_date": fields.Datetime.now(),
                    "msg_id": str(result.get("msg_id") or ""),
                    "msg_data_id": str(result.get("msg_data_id") or ""),
                    "partner_ids": [fields.Command.set(targets.ids)],
                }
            )
        return True

    def _apply_job_finish(self, message):
        """Store the result of a MASSSENDJOBFINISH event on this send."""
        self.write(
            {
                "state": "done",
                "job_status": message.status,
                "total_count": message.total_count,
                "filter_count": message.filter_count,
                "sent_count": message.sent_count,
                "error_count": message.error_count,
            }
        )

    def _wechat_fetch_status(self):
        """Ask WeChat (message/mass/get) whether submitted sends have finished.

        Used when no MASSSENDJOBFINISH event arrived. A finished send moves to
        "done" with WeChat's msg_status; the follower counts stay empty because
        only the event carries them. Returns the sends that finished.
        """
        finished = self.browse()
        for send in self.filtered(lambda s: s.state == "sent" and s.msg_id):
            result = send.account_id._wechat_call(
                lambda client, send=send: client.message.get_mass(send.msg_id),
                self.env._("Mass send status"),
            )
            status = result.get("msg_status") or ""
            if status in FINISHED_MASS_STATUSES:
                send.write({"state": "done", "job_status": status})
                finished |= send
        return finished
