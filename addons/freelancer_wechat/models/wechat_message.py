import logging
from datetime import UTC, datetime

import psycopg2

from odoo import api, fields, models

from ..tools import send_custom_message
from .wechat_account_api import WechatApiError

_logger = logging.getLogger(__name__)


class WechatMessage(models.Model):
    _name = "wechat.message"
    _description = "WeChat Message"
    _order = "create_time desc, id desc"

    account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        required=True,
        ondelete="cascade",
        index=True,
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner", string="Fan", ondelete="set null", index="btree_not_null"
    )
    openid = fields.Char(string="OpenID", index=True, help="The follower's OpenID.")
    unionid = fields.Char(string="UnionID")
    direction = fields.Selection([("in", "Received"), ("out", "Sent")], required=True, default="in")
    msg_type = fields.Char(
        string="Message Type", help="MsgType sent by WeChat: text, image, voice, event..."
    )
    event = fields.Char(help="Event type for event pushes: subscribe, unsubscribe, scan, click...")
    event_key = fields.Char(
        help="EventKey of the event: the menu key, the link opened or the QR code scene."
    )
    content = fields.Text()
    msg_id = fields.Char(string="MsgId", help="Message ID given by WeChat; events have none.")
    create_time = fields.Datetime(
        string="WeChat Time", index=True, help="CreateTime of the message, as sent by WeChat."
    )
    # TODO: no retention period yet, so raw XML and message text stay until the
    # account is deleted (WeChat's own message log keeps 5 days).
    raw_xml = fields.Text(
        string="Raw XML", groups="base.group_system", help="The decrypted XML, as received."
    )
    dedup_key = fields.Char(
        string="Deduplication Key",
        readonly=True,
        copy=False,
        help="MsgId, or OpenID, CreateTime and event for events: a WeChat retry of the "
        "same message has the same key and is processed once.",
    )
    reply_rule_id = fields.Many2one(
        comodel_name="wechat.reply.rule",
        string="Keyword Reply",
        ondelete="set null",
        index="btree_not_null",
    )
    reply_message_id = fields.Many2one(
        comodel_name="wechat.message", string="Reply", ondelete="set null"
    )
    reply_payload = fields.Json(
        readonly=True,
        copy=False,
        help="For a sent reply: what was sent, in the form the callback renders, so that a "
        "WeChat retry or a late reply sends the same.",
    )
    material_id = fields.Many2one(
        comodel_name="wechat.material",
        ondelete="set null",
        readonly=True,
        help="For a sent reply: the image, voice or video material sent.",
    )
    is_customer_service = fields.Boolean(
        string="Customer-Service Message",
        readonly=True,
        help="Sent from Odoo through the customer-service API, not as a passive reply.",
    )
    user_id = fields.Many2one(comodel_name="res.users", string="Sent By", readonly=True)
    delivery_state = fields.Selection(
        [("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed")],
        readonly=True,
        index="btree_not_null",
        help="For a reply sent later through the customer-service API, because the "
        "passive reply would have missed WeChat's 5-second limit.",
    )
    delivery_error = fields.Char(readonly=True)

    _dedup_key_unique = models.Constraint(
        "UNIQUE(account_id, dedup_key)",
        "This WeChat message has already been received.",
    )

    @api.depends("msg_type", "event", "event_key", "content")
    def _compute_display_name(self):
        for message in self:
            if message.event:
                message.display_name = f"[{message.event}] {message.event_key or ''}".strip()
            else:
                message.display_name = (message.content or f"[{message.msg_type}]")[:60]

    def action_reply(self):
        """Open the customer-service reply wizard for the sender of this message."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reply on WeChat"),
            "res_model": "wechat.reply.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_account_id": self.account_id.id,
                "default_partner_id": self.partner_id.id,
                "default_openid": self.openid,
                "default_message_id": self.id,
            },
        }

    @api.model
    def _dedup_key_from(self, message, openid, timestamp):
        if message.id:
            return f"msg:{message.id}"
        return f"event:{openid}:{timestamp}:{getattr(message, 'event', '')}"

    @api.model
    def _log_incoming(self, account, message, raw_xml):
        """Store a received message and return ``(record, is_duplicate)``.

        A WeChat retry has the same dedup key as the first delivery. It is
        found by search, or, when both deliveries run at the same time, by the
        unique constraint; either way the first record is returned.
        """
        # wechatpy keeps the parsed XML in ``_data``; the UnionID and the original
        # MsgType of unknown messages are only there.
        data = message._data
        openid = message.source or ""
        timestamp = int(data.get("CreateTime") or 0)
        dedup_key = self._dedup_key_from(message, openid, timestamp)
        existing = self.search(
            [("account_id", "=", account.id), ("dedup_key", "=", dedup_key)], limit=1
        )
        if existing:
            _logger.info(
                "WeChat message %s for account %s already received, not processed again",
                existing.id,
                account.id,
            )
            return existing, True

        event = getattr(message, "event", "") or ""
        event_key = data.get("EventKey") or ""
        vals = {
            "account_id": account.id,
            "openid": openid,
            "unionid": data.get("UnionId") or False,
            "direction": "in",
            "msg_type": (data.get("MsgType") or message.type or "").lower(),
            "event": event,
            "event_key": event_key if isinstance(event_key, str) else False,
            "content": self._content_from(message),
            "msg_id": str(message.id) if message.id else False,
            "create_time": datetime.fromtimestamp(timestamp, tz=UTC).replace(tzinfo=None),
            "raw_xml": raw_xml,
            "dedup_key": dedup_key,
        }
        try:
            with self.env.cr.savepoint():
                return self.create(vals), False
        except psycopg2.errors.UniqueViolation:
            # NOTE: the first delivery committed in the meantime, and its reply is not
            # visible in this transaction, so the retry is answered with "success".
            _logger.info("WeChat message for account %s received twice at once", account.id)
            return self.browse(), True

    @api.model
    def _content_from(self, message):
        """Return the text worth showing in the log for ``message``, or False."""
        fields_by_type = {
            "text": "content",
            "voice": "recognition",
            "link": "url",
            "location": "label",
        }
        value = getattr(message, fields_by_type.get(message.type, ""), False)
        # xmltodict returns a dict for a node with children; only plain text is kept.
        return value if isinstance(value, str) and value else False

    @api.model
    def _log_reply(self, incoming, payload):
        """Store the reply ``payload`` sent to ``incoming`` and return the record."""
        return self.create(
            {
                "account_id": incoming.account_id.id,
                "partner_id": incoming.partner_id.id,
                "openid": incoming.openid,
                "direction": "out",
                "msg_type": payload["type"],
                "content": _summary_of(payload),
                "reply_payload": payload,
                "material_id": payload.get("material_id") or False,
                "create_time": fields.Datetime.now(),
                "reply_rule_id": incoming.reply_rule_id.id,
            }
        )

    def _reply_payload(self):
        """Return what this sent message contains, for ``render_reply``, or None.

        Text messages written before replies were stored as payloads, and
        replies from the reply wizard, have only their content.
        """
        if not self:
            return None
        self.ensure_one()
        if self.reply_payload:
            return self.reply_payload
        if self.content:
            return {"type": "text", "content": self.content}
        return None

    @api.model
    def _cron_send_late_replies(self):
        """Send the replies queued by the callback through the customer-service API."""
        queued = self.search([("delivery_state", "=", "queued")], order="id")
        for reply in queued:
            payload = reply._reply_payload()
            if not payload:
                reply.write(
                    {
                        "delivery_state": "failed",
                        "delivery_error": self.env._("Nothing to send: the reply is empty."),
                    }
                )
                _logger.warning("WeChat late reply %s has nothing to send", reply.id)
                continue
            try:
                reply.account_id._wechat_call(
                    lambda client, reply=reply, payload=payload: send_custom_message(
                        client, reply.openid, payload
                    ),
                    feature=self.env._("Late reply"),
                )
            except WechatApiError as error:
                reply.write({"delivery_state": "failed", "delivery_error": str(error.args[0])})
                _logger.warning("WeChat late reply %s failed: %s", reply.id, error.args[0])
                continue
            reply.write({"delivery_state": "sent", "delivery_error": False})


def _summary_of(payload):
    """Return the text shown in the message log for a reply ``payload``."""
    if payload["type"] == "text":
        return payload.get("content") or ""
    if payload["type"] == "news":
        titles = [article.get("title") or "" for article in payload.get("articles") or []]
        return f"[news] {' / '.join(titles)}"
    return f"[{payload['type']}] {payload.get('name') or payload.get('media_id') or ''}"
