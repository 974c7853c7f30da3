import logging
import re
import time

from wechatpy.crypto import WeChatCrypto

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .wechat_reply_rule import (
    MAX_EVENT_REPLY_ARTICLES,
    MAX_MESSAGE_REPLY_ARTICLES,
    REGEX_TIMEOUT,
    REPLY_TYPES,
)

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
    welcome_reply_type = fields.Selection(
        REPLY_TYPES,
        required=True,
        default="text",
        help="What a new follower receives: a text, a material, up to 8 published articles "
        "or the keyword index.",
    )
    welcome_material_id = fields.Many2one(
        comodel_name="wechat.material",
        ondelete="restrict",
        domain="[('account_id', '=', id), ('media_type', '=', welcome_reply_type), "
        "('media_id', '!=', False)]",
    )
    welcome_article_ids = fields.Many2many(
        comodel_name="wechat.article",
        relation="wechat_account_welcome_article_rel",
        string="Welcome Articles",
        domain="[('account_id', '=', id), ('state', '=', 'published')]",
        help="Up to 8 published articles, sent newest first. WeChat shows the first one large.",
    )
    default_reply = fields.Text(
        help="Text sent when a message matches no keyword rule. Leave empty to send nothing."
    )
    default_reply_type = fields.Selection(
        REPLY_TYPES,
        required=True,
        default="text",
        help="What a message that matches no keyword rule receives. WeChat shows one "
        "article in a reply to a message.",
    )
    default_material_id = fields.Many2one(
        comodel_name="wechat.material",
        ondelete="restrict",
        domain="[('account_id', '=', id), ('media_type', '=', default_reply_type), "
        "('media_id', '!=', False)]",
    )
    default_article_ids = fields.Many2many(
        comodel_name="wechat.article",
        relation="wechat_account_default_article_rel",
        string="Default Articles",
        domain="[('account_id', '=', id), ('state', '=', 'published')]",
    )
    reply_lang = fields.Selection(
        selection="_get_reply_langs",
        string="Reply Language",
        default=lambda self: self._default_reply_lang(),
        help="Language of the texts that Odoo writes into replies, such as the heading of "
        "the keyword index.",
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
    material_count = fields.Integer(compute="_compute_counts")
    menu_button_ids = fields.One2many(
        comodel_name="wechat.menu.button",
        inverse_name="account_id",
        string="Menu",
        domain=[("parent_id", "=", False)],
    )

    _app_id_unique = models.Constraint(
        "UNIQUE(app_id)", "Another WeChat Official Account already uses this AppID."
    )

    @api.model
    def _get_reply_langs(self):
        return self.env["res.lang"].get_installed()

    @api.model
    def _default_reply_lang(self):
        installed = dict(self.env["res.lang"].get_installed())
        if self.env.lang in installed:
            return self.env.lang
        return "zh_CN" if "zh_CN" in installed else next(iter(installed), False)

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

    @api.constrains(
        "welcome_reply_type",
        "welcome_reply",
        "welcome_material_id",
        "welcome_article_ids",
        "default_reply_type",
        "default_reply",
        "default_material_id",
        "default_article_ids",
    )
    def _check_automatic_replies(self):
        Rule = self.env["wechat.reply.rule"]
        for account in self:
            Rule._check_reply_content(
                self.env._("The welcome reply of “%(account)s”", account=account.name),
                account,
                account.welcome_reply_type,
                account.welcome_reply,
                account.welcome_material_id,
                account.welcome_article_ids,
                max_articles=MAX_EVENT_REPLY_ARTICLES,
                text_required=False,
            )
            Rule._check_reply_content(
                self.env._("The default reply of “%(account)s”", account=account.name),
                account,
                account.default_reply_type,
                account.default_reply,
                account.default_material_id,
                account.default_article_ids,
                max_articles=MAX_MESSAGE_REPLY_ARTICLES,
                text_required=False,
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
        material_counts = dict(
            self.env["wechat.material"]._read_group(
                [("account_id", "in", self.ids)], ["account_id"], ["__count"]
            )
        )
        for account in self:
            account.reply_rule_count = rule_counts.get(account, 0)
            account.message_count = message_counts.get(account, 0)
            account.material_count = material_counts.get(account, 0)

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

    def action_view_materials(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "freelancer_wechat.wechat_material_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    def action_sync_materials(self):
        """Fetch the account's materials from WeChat and show the materials list."""
        self.ensure_one()
        created, updated, archived = self.env["wechat.material"]._wechat_sync(self)
        message = self.env._(
            "%(created)s new and %(updated)s updated materials; %(archived)s archived because "
            "they were deleted on WeChat.",
            created=created,
            updated=updated,
            archived=archived,
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Material sync"),
                "message": message,
                "type": "success",
                "next": self.action_view_materials(),
            },
        }

    def action_add_keyword_index(self):
        """Open the account's keyword index rule, and create it first if missing.

        The new rule sends the index when a follower sends the keyword “menu”
        (菜单 in Chinese). The Fan Manager can change the keyword on the form.
        """
        self.ensure_one()
        Rule = self.env["wechat.reply.rule"]
        rule = Rule.with_context(active_test=False).search(
            [("account_id", "=", self.id), ("reply_type", "=", "keyword_index")], limit=1
        )
        if not rule:
            rule = Rule.create(
                {
                    "account_id": self.id,
                    "sequence": 1,
                    "keyword": self.env._("menu"),
                    "match_type": "exact",
                    "reply_type": "keyword_index",
                }
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Keyword Index"),
            "res_model": "wechat.reply.rule",
            "res_id": rule.id,
            "view_mode": "form",
            "target": "current",
        }

    def _keyword_index_text(self):
        """Return the keyword index: a text that lists the active keyword replies.

        It is written in the account's reply language. Rules that send the
        index themselves and regular-expression rules, whose keyword is no
        word a follower can type, are left out.
        """
        # NOTE: WeChat documents no maximum text length for passive replies; an
        # index of many rules may be cut or rejected by WeChat.
        self.ensure_one()
        env = self.with_context(lang=self.reply_lang).env if self.reply_lang else self.env
        rules = env["wechat.reply.rule"].search(
            [
                ("account_id", "=", self.id),
                ("reply_type", "!=", "keyword_index"),
                ("match_type", "!=", "regex"),
            ],
            order="sequence, id",
        )
        if not rules:
            return env._("No keyword replies yet.")
        lines = [env._("Reply with one of these keywords:")]
        for rule in rules:
            keyword = rule.keyword.strip()
            if rule.description:
                lines.append(
                    env._(
                        "%(keyword)s: %(description)s",
                        keyword=keyword,
                        description=rule.description.strip(),
                    )
                )
            else:
                lines.append(keyword)
        return "\n".join(lines)

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
        Rule = self.env["wechat.reply.rule"]
        deadline = time.monotonic() + REGEX_BUDGET_SECONDS
        matched = skipped = Rule
        for rule_id, match_type, keyword in Rule._matching_rules(self.id):
            rule = Rule.browse(rule_id)
            timeout = REGEX_TIMEOUT
            if match_type == "regex":
                timeout = min(REGEX_TIMEOUT, deadline - time.monotonic())
                if timeout <= 0:
                    skipped |= rule
                    continue
            if rule._keyword_matches(match_type, keyword, content, timeout):
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

        ``message`` is the object returned by ``wechatpy.parse_message``.
        Return the passive reply as a dict for ``render_reply``, or None when
        nothing should be sent. A message already received (a WeChat retry)
        is not processed again: the reply sent the first time is returned
        once more.
        """
        self.ensure_one()
        Message = self.env["wechat.message"]
        incoming, duplicate = Message._log_incoming(self, message, raw_xml)
        if duplicate:
            return incoming.reply_message_id._reply_payload()

        if message.type == "event":
            payload = self._handle_event(message, incoming)
        else:
            payload = self._handle_user_message(message, incoming)
        if payload:
            incoming.reply_message_id = Message._log_reply(incoming, payload)
        return payload or None

    def _welcome_reply_payload(self):
        self.ensure_one()
        return self.env["wechat.reply.rule"]._build_reply_payload(
            self,
            self.welcome_reply_type,
            self.welcome_reply,
            self.welcome_material_id,
            self.welcome_article_ids,
        )

    def _default_reply_payload(self):
        self.ensure_one()
        return self.env["wechat.reply.rule"]._build_reply_payload(
            self,
            self.default_reply_type,
            self.default_reply,
            self.default_material_id,
            self.default_article_ids,
        )

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
            return None
        if event == "templatesendjobfinish":
            # Template messages are sent from outside Odoo; their delivery status
            # ("success", "failed:user block"...) is kept in the message log.
            incoming.content = getattr(message, "status", "") or False
            return None
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
            return self._welcome_reply_payload()

        # NOTE: an unfollow, scan or menu event from an OpenID of no known fan is
        # only logged, because WeChat sends no profile with it to create a fan from.
        partner = Partner._wechat_find_fan(self, openid, unionid)
        incoming.partner_id = partner
        if not partner:
            return None
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
            return None
        partner._fan_log_interaction(
            interaction_type,
            name=summary,
            date=incoming.create_time,
            res_model=incoming._name,
            res_id=incoming.id,
        )
        return None

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
                incoming.reply_rule_id = rule
                return rule._reply_payload()
        return self._default_reply_payload()
