import logging
import uuid
from datetime import datetime, time
from zoneinfo import ZoneInfo

from odoo import fields, models
from odoo.exceptions import UserError

from .wechat_account_api import WechatApiError

_logger = logging.getLogger(__name__)

BEIJING = ZoneInfo("Asia/Shanghai")
# errcode of a sendall whose clientmsgid was already used. The first send is kept.
CLIENTMSGID_EXISTS = 45065
# Mass sends per Beijing calendar day (subscription) and month (service).
SUBSCRIPTION_SENDS_PER_DAY = 1
SERVICE_SENDS_PER_MONTH = 4


class WechatMassSend(models.Model):
    """One mass send (群发) of an article to all followers or a tag."""

    _name = "wechat.mass.send"
    _description = "WeChat Mass Send"
    _order = "id desc"

    name = fields.Char(related="article_id.title", string="Article Title")
    account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        required=True,
        ondelete="cascade",
        index=True,
    )
    article_id = fields.Many2one(
        comodel_name="wechat.article",
        required=True,
        domain="[('account_id', '=', account_id)]",
    )
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
        readonly=True, copy=False, help="Status of the MASSSENDJOBFINISH event, e.g. send success."
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

    _client_msg_id_unique = models.Constraint(
        "UNIQUE(client_msg_id)", "Each mass send needs its own client message ID."
    )

    def _period_start(self):
        """Return the UTC start of the Beijing day (subscription) or month (service)."""
        now = datetime.now(BEIJING)
        if self.account_id.account_type == "subscription":
            start = datetime.combine(now.date(), time.min, BEIJING)
        else:
            start = datetime.combine(now.date().replace(day=1), time.min, BEIJING)
        return start.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    def _check_send_limit(self):
        self.ensure_one()
        account = self.account_id
        count = self.search_count(
            [
                ("account_id", "=", account.id),
                ("state", "in", ("sent", "done")),
                ("send_date", ">=", self._period_start()),
                ("id", "!=", self.id),
            ]
        )
        if account.account_type == "subscription" and count >= SUBSCRIPTION_SENDS_PER_DAY:
            raise UserError(
                self.env._(
                    "“%(account)s” is a subscription account: WeChat allows one mass send a "
                    "day, and today's has been sent. Send again tomorrow (Beijing time).",
                    account=account.name,
                )
            )
        if account.account_type == "service" and count >= SERVICE_SENDS_PER_MONTH:
            raise UserError(
                self.env._(
                    "“%(account)s” is a service account: WeChat delivers at most %(max)s mass "
                    "sends a month to each follower, and %(count)s were sent this month. Send "
                    "again next month.",
                    account=account.name,
                    max=SERVICE_SENDS_PER_MONTH,
                    count=count,
                )
            )

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
        return {
            "filter": target,
            "mpnews": {"media_id": self.article_id.media_id},
            "msgtype": "mpnews",
            "send_ignore_reprint": 0,
            "clientmsgid": self.client_msg_id,
        }

    def action_send(self):
        """Submit the mass send; a retry reuses ``client_msg_id`` and cannot send twice."""
        for send in self:
            if send.state not in ("draft", "failed"):
                raise UserError(self.env._("This mass send was already submitted."))
            send._check_send_limit()
            if not send.article_id.media_id:
                send.article_id.action_upload_draft()
            payload = send._sendall_payload()
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
