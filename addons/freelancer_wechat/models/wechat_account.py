import logging
import re
import time

from wechatpy.crypto import WeChatCrypto

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .wechat_reply_rule import REGEX_TIMEOUT

_logger = logging.getLogger(__name__)

# The WeChat back office accepts a token of 3 to 32 letters and digits.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9]{3,32}$")
# An EncodingAESKey is 43 letters and digits: a 32-byte AES key in base64 without padding.
AES_KEY_PATTERN = re.compile(r"^[A-Za-z0-9]{43}$")
# Seconds that all regular-expression rules together may spend on one message,
# so that the reply still meets WeChat's 5-second limit.
REGEX_BUDGET_SECONDS = 1.0


class WechatAccount(models.Model):
    _name = "wechat.account"
    _description = "WeChat Official Account"
    _order = "name, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    app_id = fields.Char(
        string="AppID",
        required=True,
        help="Developer ID (AppID) from the WeChat back office, under Settings and Development "
        "> Basic Configuration. It is also the account key of the followers' OpenIDs.",
    )
    app_secret = fields.Char(
        string="AppSecret",
        groups="base.group_system",
        copy=False,
        help="Developer password, needed only for calls to the WeChat API.",
    )
    token = fields.Char(
        groups="base.group_system",
        copy=False,
        help="The token entered in the server configuration of the WeChat back office: "
        "3 to 32 letters and digits. Every callback is signed with it.",
    )
    encoding_aes_key = fields.Char(
        string="EncodingAESKey",
        groups="base.group_system",
        copy=False,
        help="The 43-character message encryption key from the server configuration, "
        "required in compatible and safe mode.",
    )
    message_mode = fields.Selection(
        [
            ("plain", "Plain Text"),
            ("compatible", "Compatible"),
            ("safe", "Safe (Encrypted)"),
        ],
        string="Message Encryption",
        required=True,
        default="plain",
        help="Must match the message encryption mode chosen in the WeChat back office. "
        "In safe mode every message and reply is encrypted with the EncodingAESKey.",
    )
    account_type = fields.Selection(
        [("subscription", "Subscription Account"), ("service", "Service Account")],
        required=True,
        default="subscription",
    )
    is_verified = fields.Boolean(
        string="Verified",
        help="Verified accounts can call most WeChat APIs. Unverified accounts only receive "
        "messages and events and answer them with passive replies.",
    )
    api_base_url = fields.Char(
        string="API Base URL",
        required=True,
        default="https://api.weixin.qq.com",
        help="Address of the WeChat API. Keep the default in production; tests and demo "
        "data point it at a local fake server.",
    )
    welcome_reply = fields.Text(
        help="Text sent to a person who follows the account. Leave empty to send nothing."
    )
    default_reply = fields.Text(
        help="Text sent when a message matches no keyword rule. Leave empty to send nothing."
    )
    callback_url = fields.Char(
        string="Callback URL",
        compute="_compute_callback_url",
        help="Enter this address as the server URL in the WeChat back office.",
    )
    reply_rule_ids = fields.One2many(
        comodel_name="wechat.reply.rule", inverse_name="account_id", string="Keyword Replies"
    )
    message_ids = fields.One2many(
        comodel_name="wechat.message", inverse_name="account_id", string="Messages"
    )
    reply_rule_count = fields.Integer(compute="_compute_counts", string="Keyword Reply Count")
    message_count = fields.Integer(compute="_compute_counts")
    menu_button_ids = fields.One2many(
        comodel_name="wechat.menu.button",
        inverse_name="account_id",
        string="Menu",
        domain=[("parent_id", "=", False)],
    )

    _app_id_unique = models.Constraint(
        "UNIQUE(app_id)", "Another WeChat Official Account already uses this AppID."
    )

    # ------------------------------------------------------------
    # CONSTRAINTS AND COMPUTES
    # ------------------------------------------------------------

    @api.constrains("token", "encoding_aes_key", "message_mode")
    def _check_callback_secrets(self):
        # sudo: the secrets are restricted to administrators, but a change of mode by
        # another user must still be checked against them. Nothing is returned to the user.
        for account in self.sudo():
            if account.token and not TOKEN_PATTERN.match(account.token):
                raise ValidationError(
                    self.env._(
                        "The token of “%(account)s” is invalid: use 3 to 32 letters and digits.",
                        account=account.name,
                    )
                )
            key = account.encoding_aes_key
            if key and not AES_KEY_PATTERN.match(key):
                raise ValidationError(
                    self.env._(
                        "The EncodingAESKey of “%(account)s” is invalid: it must be exactly "
                        "43 letters and digits, as shown in the WeChat back office.",
                        account=account.name,
                    )
                )
            if account.message_mode != "plain" and not key:
                raise ValidationError(
                    self.env._(
                        "The EncodingAESKey of “%(account)s” is missing: compatible and safe "
                        "mode need it to decrypt messages.",
                        account=account.name,
                    )
                )

    def _compute_callback_url(self):
        for account in self:
            if account.id:
                account.callback_url = f"{account.get_base_url()}/wechat/callback/{account.id}"
            else:
                account.callback_url = False

    def _compute_counts(self):
        rule_counts = dict(
            self.env["wechat.reply.rule"]._read_group(
                [("account_id", "in", self.ids)], ["account_id"], ["__count"]
            )
        )
        message_counts = dict(
            self.env["wechat.message"]._read_group(
                [("account_id", "in", self.ids)], ["account_id"], ["__count"]
            )
        )
        for account in self:
            account.reply_rule_count = rule_counts.get(account, 0)
            account.message_count = message_counts.get(account, 0)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "freelancer_wechat.wechat_message_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    # ------------------------------------------------------------
    # CALLBACK PROCESSING
    # ------------------------------------------------------------

    def _get_crypto(self):
        """Return the wechatpy helper that decrypts messages and encrypts replies."""
        self.ensure_one()
        return WeChatCrypto(self.token, self.encoding_aes_key, self.app_id)

    def _match_reply_rule(self, content):
        """Return the first active keyword rule, by priority, that matches ``content``.

        Regular-expression rules share a budget of REGEX_BUDGET_SECONDS per
        message. Once it is spent, the remaining ones count as no match, and
        the other rules are still checked.
        """
        self.ensure_one()
        rules = self.env["wechat.reply.rule"].search(
            [("account_id", "=", self.id)], order="sequence, id"
        )
        deadline = time.monotonic() + REGEX_BUDGET_SECONDS
        matched = skipped = rules.browse()
        for rule in rules:
            timeout = REGEX_TIMEOUT
            if rule.match_type == "regex":
                timeout = min(REGEX_TIMEOUT, deadline - time.monotonic())
                if timeout <= 0:
                    skipped |= rule
                    continue
            if rule._matches(content, timeout=timeout):
                matched = rule
                break
        if skipped:
            _logger.warning(
                "Regular-expression rules of WeChat account %s used up their %s s budget; "
                "rules %s were skipped",
                self.id,
                REGEX_BUDGET_SECONDS,
                skipped.ids,
            )
        return matched

    def _wechat_handle_message(self, message, raw_xml):
        """Log a message or event that passed the signature check and act on it.

        ``message`` is the object returned by ``wechatpy.parse_message``. Return
        the text of the passive reply, or an empty string when nothing should be
        sent. A message already received (a WeChat retry) is not processed again:
        the reply sent the first time is returned once more.
        """
        self.ensure_one()
        Message = self.env["wechat.message"]
        incoming, duplicate = Message._log_incoming(self, message, raw_xml)
        if duplicate:
            return incoming.reply_message_id.content or ""

        if message.type == "event":
            reply_text = self._handle_event(message, incoming)
        else:
            reply_text = self._handle_user_message(message, incoming)
        if reply_text:
            incoming.reply_message_id = Message._log_reply(incoming, reply_text)
        return reply_text or ""

    def _wechat_queue_late_reply(self, message):
        """Send the reply to ``message`` later, as a customer-service message.

        Used when the passive reply would arrive after WeChat's 5-second
        limit: the callback responds ``success`` and the scheduled action sends
        the logged reply through the customer-service API.
        """
        self.ensure_one()
        incoming = self.env["wechat.message"].search(
            [
                ("account_id", "=", self.id),
                ("direction", "=", "in"),
                ("openid", "=", message.source),
                ("reply_message_id", "!=", False),
            ],
            order="id desc",
            limit=1,
        )
        reply = incoming.reply_message_id
        if not reply:
            return
        reply.write({"is_customer_service": True, "delivery_state": "queued"})
        self.env.ref("freelancer_wechat.ir_cron_wechat_send_late_replies")._trigger()
        _logger.info("WeChat reply %s of account %s queued as a late reply", reply.id, self.id)

    def _handle_event(self, message, incoming):
        Partner = self.env["res.partner"]
        openid = incoming.openid
        unionid = incoming.unionid or ""
        event = message.event
        if event == "masssendjobfinish":
            self._handle_mass_send_finish(message)
            return ""
        if event in ("subscribe", "subscribe_scan", "subscribe_scan_product"):
            scene = getattr(message, "scene_id", "") if event == "subscribe_scan" else ""
            partner = Partner._wechat_find_or_create_fan(self, openid, unionid, scene=scene)
            incoming.partner_id = partner
            partner._fan_record_consent(
                "wechat",
                "grant",
                "wechat_follow",
                address=openid,
                proof=self.env._(
                    "Followed the WeChat Official Account %(account)s (AppID %(app_id)s)",
                    account=self.name,
                    app_id=self.app_id,
                ),
                res_model=incoming._name,
                res_id=incoming.id,
            )
            partner._fan_log_interaction(
                "wechat_follow",
                name=self.env._("Followed %(account)s", account=self.name),
                date=incoming.create_time,
                res_model=incoming._name,
                res_id=incoming.id,
            )
            return self.welcome_reply

        # NOTE: an unfollow, scan or menu event from an OpenID of no known fan is
        # only logged, because WeChat sends no profile with it to create a fan from.
        partner = Partner._wechat_find_fan(self, openid, unionid)
        incoming.partner_id = partner
        if not partner:
            return ""
        if event == "unsubscribe":
            partner._fan_record_consent(
                "wechat",
                "withdraw",
                "wechat_unfollow",
                address=openid,
                proof=self.env._(
                    "Unfollowed the WeChat Official Account %(account)s (AppID %(app_id)s)",
                    account=self.name,
                    app_id=self.app_id,
                ),
                res_model=incoming._name,
                res_id=incoming.id,
            )
            interaction_type = "wechat_unfollow"
            summary = self.env._("Unfollowed %(account)s", account=self.name)
        elif event == "scan":
            partner._wechat_set_scene(message.scene_id)
            interaction_type = "wechat_scan"
            summary = self.env._("Scanned QR code %(scene)s", scene=message.scene_id or "")
        elif event in ("click", "view"):
            interaction_type = "wechat_menu"
            summary = self.env._("Menu: %(key)s", key=incoming.event_key or "")
        else:
            return ""
        partner._fan_log_interaction(
            interaction_type,
            name=summary,
            date=incoming.create_time,
            res_model=incoming._name,
            res_id=incoming.id,
        )
        return ""

    def _handle_mass_send_finish(self, message):
        """Store the result of a mass send job pushed by WeChat (MASSSENDJOBFINISH)."""
        send = self.env["wechat.mass.send"].search(
            [("account_id", "=", self.id), ("msg_id", "=", str(message.id))], limit=1
        )
        if not send:
            _logger.info(
                "Mass send job %s of account %s finished, but no mass send has this msg_id",
                message.id,
                self.id,
            )
            return
        send._apply_job_finish(message)

    def _handle_user_message(self, message, incoming):
        """Link a message sent by a follower to their fan profile and choose the reply.

        Only followers can send messages, but a follower from before the
        account was connected has no fan profile yet, so one is created. No
        consent is recorded for them because the follow itself was not seen.
        """
        partner = self.env["res.partner"]._wechat_find_or_create_fan(
            self, incoming.openid, incoming.unionid or ""
        )
        incoming.partner_id = partner
        summary = incoming.content or f"[{incoming.msg_type}]"
        partner._fan_log_interaction(
            "wechat_message",
            name=summary[:80],
            date=incoming.create_time,
            res_model=incoming._name,
            res_id=incoming.id,
        )
        if message.type == "text":
            rule = self._match_reply_rule(incoming.content or "")
            if rule:
                rule._increment_hit_count()
                incoming.reply_rule_id = rule
                return rule.reply_text
        return self.default_reply
