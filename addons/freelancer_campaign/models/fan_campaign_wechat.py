import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

from odoo.addons.freelancer_wechat.models.wechat_account_api import WechatApiError
from odoo.addons.freelancer_wechat.models.wechat_mass_send import (
    SERVICE_SENDS_PER_FAN_PER_MONTH,
)
from odoo.addons.freelancer_wechat.models.wechat_tag import MAX_TAGS_PER_ACCOUNT, MAX_TAGS_PER_FAN

_logger = logging.getLogger(__name__)

# WeChat lets an account send customer-service messages to a follower for 48
# hours after the follower's last message to it.
WECHAT_WINDOW = timedelta(hours=48)
# errcode of tags/create when the account already has a tag with that name.
TAG_NAME_EXISTS_ERRCODE = 45157


class FanCampaign(models.Model):
    """WeChat side of a campaign: customer-service messages and mass sends by tag."""

    _inherit = "fan.campaign"

    # ------------------------------------------------------------
    # PLANNING
    # ------------------------------------------------------------

    def _wechat_openids(self, partners):
        """Return ``{partner_id: openid}`` for the partners' OpenIDs on the campaign's account."""
        if not self.wechat_account_id:
            return {}
        identities = self.wechat_account_id._wechat_openid_identities(partners)
        return {identity.partner_id.id: identity.value for identity in identities}

    def _wechat_reachable(self, partners):
        """Return how WeChat reaches each follower among ``partners``, and why not.

        Returns ``(methods, reasons)``: ``{partner_id: method}`` and
        ``{partner_id: reason}``. A follower is a fan with WeChat consent and
        an OpenID of the campaign's account. Followers who wrote to the account
        within 48 hours get a customer-service message. The others are reached
        by a mass send to a tag when the account is verified and neither the
        account's nor the fan's mass send limits are used up.
        """
        self.ensure_one()
        account = self.wechat_account_id
        methods, reasons = {}, {}
        if not account:
            return methods, reasons
        Partner = self.env["res.partner"]
        consenting = Partner.search(
            Partner._fan_consent_domain("wechat") & Domain("id", "in", partners.ids)
        )
        openids = self._wechat_openids(consenting)
        followers = consenting.filtered(lambda partner: partner.id in openids)
        if account.api_state == "unauthorized":
            reason = self.env._(
                "WeChat: “%(account)s” is not authorized to call the WeChat API.",
                account=account.name,
            )
            return methods, dict.fromkeys(followers.ids, reason)
        since = fields.Datetime.now() - WECHAT_WINDOW
        recent = (
            self.env["wechat.message"]
            .sudo()
            .search(
                [
                    ("account_id", "=", account.id),
                    ("direction", "=", "in"),
                    ("partner_id", "in", followers.ids),
                    ("create_time", ">=", since),
                ]
            )
        )
        in_window = followers & recent.partner_id
        methods.update(dict.fromkeys(in_window.ids, "customer_service"))
        outside = followers - in_window
        if not outside:
            return methods, reasons
        blocked = self._wechat_tag_send_blocked_reason()
        if blocked:
            reasons.update(dict.fromkeys(outside.ids, blocked))
            return methods, reasons
        over_month, with_max_tags = self._wechat_partners_over_limits(outside)
        for partner in outside:
            if partner in over_month:
                reasons[partner.id] = self._wechat_monthly_limit_reason()
            elif partner in with_max_tags:
                reasons[partner.id] = self._wechat_max_tags_reason()
            else:
                methods[partner.id] = "tag"
        return methods, reasons

    def _wechat_tag_send_blocked_reason(self):
        """Return why the campaign cannot mass send to a tag now, or an empty string."""
        account = self.wechat_account_id
        if not account.is_verified:
            return self.env._(
                "WeChat: the fan has not written to “%(account)s” in the last 48 hours, and "
                "only a verified account can mass send to the other followers.",
                account=account.name,
            )
        Send = self.env["wechat.mass.send"].sudo()
        blocked = Send._get_send_blocked_reason(account)
        if blocked:
            return self.env._("WeChat: %(reason)s", reason=blocked)
        Tag = self.env["wechat.tag"].sudo()
        linked = Tag.search_count([("account_id", "=", account.id), ("wechat_id", "!=", 0)])
        own = self._wechat_reusable_tag()
        if linked >= MAX_TAGS_PER_ACCOUNT and not own:
            return self.env._(
                "WeChat: “%(account)s” already has %(count)s tags, the maximum WeChat allows, "
                "so the campaign cannot create its own tag. Delete a tag in the WeChat back "
                "office and pull the tags again.",
                account=account.name,
                count=linked,
            )
        return ""

    def _wechat_partners_over_limits(self, partners):
        """Return the fans over their monthly mass sends and the fans with 20 tags."""
        account = self.wechat_account_id
        over_month = (
            self.env["wechat.mass.send"].sudo()._partners_over_monthly_limit(account, partners)
        )
        own = self._wechat_reusable_tag()
        with_max_tags = (
            self.env["wechat.tag"]
            .sudo()
            ._partners_with_max_tags(account, partners - over_month - own.partner_ids)
        )
        return over_month, with_max_tags

    def _wechat_monthly_limit_reason(self):
        return self.env._(
            "WeChat: the fan already received %(max)s mass sends from “%(account)s” this "
            "month, the maximum WeChat delivers from a service account.",
            max=SERVICE_SENDS_PER_FAN_PER_MONTH,
            account=self.wechat_account_id.name,
        )

    def _wechat_max_tags_reason(self):
        return self.env._(
            "WeChat: the fan already has %(max)s tags on “%(account)s”, the maximum WeChat "
            "allows, so the campaign cannot tag them.",
            max=MAX_TAGS_PER_FAN,
            account=self.wechat_account_id.name,
        )

    # ------------------------------------------------------------
    # SENDING
    # ------------------------------------------------------------

    def _send_wechat(self, recipients):
        """Send the WeChat content, moving the recipients whose message fails to their next channel.

        An article is uploaded as a draft first, when it has no media ID yet.
        """
        self.ensure_one()
        if self.wechat_content_type == "article" and not self.wechat_article_id.media_id:
            try:
                self.wechat_article_id.sudo().action_upload_draft()
            except UserError as error:
                self._fall_back(recipients, str(error.args[0]))
                return
        by_tag = recipients.filtered(lambda r: r.wechat_method == "tag")
        for recipient in recipients - by_tag:
            self._send_wechat_customer_service(recipient)
        if by_tag:
            self._send_wechat_by_tag(by_tag)

    def _send_wechat_customer_service(self, recipient):
        account = self.wechat_account_id
        openid = self._wechat_openids(recipient.partner_id).get(recipient.partner_id.id)
        if self.wechat_content_type == "article":
            # NOTE: sent as mpnews with the draft's media_id, like the mass send. WeChat's
            # newer docs also offer mpnewsarticle with a published article_id, not used here.
            article = self.wechat_article_id
            msg_type, content = "mpnews", article.title

            def send(client):
                return client.message.send_articles(openid, article.media_id)
        else:
            msg_type, content = "text", self.wechat_text.strip()

            def send(client):
                return client.message.send_text(openid, content)

        try:
            if not openid:
                raise WechatApiError(self.env._("The fan has no OpenID for this account."))
            account._wechat_call(send, feature=self.env._("Campaign message"))
        except WechatApiError as error:
            self._fall_back(recipient, str(error.args[0] if error.args else error))
            return
        self.env["wechat.message"].sudo().create(
            {
                "account_id": account.id,
                "partner_id": recipient.partner_id.id,
                "openid": openid,
                "direction": "out",
                "msg_type": msg_type,
                "content": content,
                "create_time": fields.Datetime.now(),
                "is_customer_service": True,
                "fan_campaign_id": self.id,
                "user_id": self.env.uid,
            }
        )
        recipient.write({"state": "sent", "sent_date": fields.Datetime.now()})

    def _send_wechat_by_tag(self, recipients):
        """Tag the recipients with the campaign's own tag and mass send to that tag.

        The limits are checked again because another send may have used them
        since planning. Fans WeChat will not tag or reach fall back to their
        next channel. The tag is deleted by the scheduled action once WeChat
        reports the send finished, or at once when nothing was sent.
        """
        blocked = self._wechat_tag_send_blocked_reason()
        if blocked:
            self._fall_back(recipients, blocked)
            return
        over_month, with_max_tags = self._wechat_partners_over_limits(recipients.partner_id)
        self._fall_back(
            recipients.filtered(lambda r: r.partner_id in over_month),
            self._wechat_monthly_limit_reason(),
        )
        self._fall_back(
            recipients.filtered(lambda r: r.partner_id in with_max_tags),
            self._wechat_max_tags_reason(),
        )
        recipients = recipients.filtered(lambda r: r.channel == "wechat" and r.state == "planned")
        if not recipients:
            return

        tag = self._wechat_reusable_tag() or self._wechat_create_tag()
        try:
            tag = self._wechat_ensure_remote_tag(tag)
            tagged, rejected = tag._wechat_tag_partners(recipients.partner_id)
        except UserError as error:
            self._fall_back(recipients, str(error.args[0]))
            self._wechat_delete_tags(tag)
            return
        self._fall_back(
            recipients.filtered(lambda r: r.partner_id in rejected), self._wechat_max_tags_reason()
        )
        recipients = recipients.filtered(lambda r: r.partner_id in tagged)
        if not recipients:
            self._wechat_delete_tags(tag)
            return

        send = self._wechat_create_mass_send(tag)
        try:
            send.action_send()
        except UserError as error:
            send.write({"state": "failed"})
            self._fall_back(recipients, str(error.args[0]))
            self._wechat_delete_tags(tag)
            return
        recipients.write(
            {"state": "sent", "sent_date": fields.Datetime.now(), "wechat_mass_send_id": send.id}
        )
        _logger.info(
            "Campaign %s: mass send %s (msg_id %s) to tag %s for %s fans",
            self.id,
            send.id,
            send.msg_id,
            tag.wechat_id,
            len(recipients),
        )

    def _wechat_attempt(self):
        """Return the number of this campaign's next mass send, starting at 1."""
        return len(self.wechat_mass_send_ids) + 1

    def _wechat_client_msg_id(self, attempt):
        """Return the clientmsgid of the campaign's mass send number ``attempt``.

        It is derived from the database and the campaign. When Odoo loses a
        submitted send because its transaction rolled back after WeChat
        accepted it, the next send reuses the value, so WeChat rejects it as a
        duplicate instead of sending twice. It is at most 64 bytes, WeChat's
        maximum.
        """
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")
        return f"fan-campaign-{uuid}-{self.id}-{attempt}"

    def _wechat_reusable_tag(self):
        """Return the campaign's tag that no submitted mass send uses yet, if any."""
        tags = self.env["wechat.tag"].sudo().search([("fan_campaign_id", "=", self.id)])
        used = (
            self.env["wechat.mass.send"]
            .sudo()
            .search([("tag_id", "in", tags.ids), ("state", "in", ("sent", "done"))])
            .tag_id
        )
        return (tags - used)[:1]

    def _wechat_create_tag(self):
        name = self.env._("Campaign %(id)s-%(attempt)s", id=self.id, attempt=self._wechat_attempt())
        return (
            self.env["wechat.tag"]
            .sudo()
            .create(
                {
                    "name": name,
                    "account_id": self.wechat_account_id.id,
                    "fan_campaign_id": self.id,
                }
            )
        )

    def _wechat_ensure_remote_tag(self, tag):
        """Create ``tag`` on WeChat and return it, or the tag of that name WeChat has.

        WeChat keeps a tag whose creation Odoo lost in a rolled-back
        transaction. Tag names contain the campaign ID, so a tag of the same
        name is taken as this campaign's: it is pulled and used.
        """
        # NOTE: a tag of that name made by hand in the WeChat back office would be
        # used too, and deleted after the send.
        try:
            tag._wechat_ensure_remote()
            return tag
        except WechatApiError as error:
            if error.errcode != TAG_NAME_EXISTS_ERRCODE:
                raise
        pulled = tag._wechat_pull(tag.account_id).filtered(lambda t: t.name == tag.name)
        if not pulled:
            raise UserError(
                self.env._(
                    "WeChat reports a tag named “%(tag)s” on “%(account)s” but does not list "
                    "it. Pull the tags, then send again.",
                    tag=tag.name,
                    account=tag.account_id.name,
                )
            )
        pulled.fan_campaign_id = self
        tag.unlink()
        _logger.info("Campaign %s reuses WeChat tag %s found on WeChat", self.id, pulled.wechat_id)
        return pulled[0]

    def _wechat_create_mass_send(self, tag):
        attempt = self._wechat_attempt()
        values = {
            "account_id": self.wechat_account_id.id,
            "target": "tag",
            "tag_id": tag.id,
            "client_msg_id": self._wechat_client_msg_id(attempt),
            "fan_campaign_id": self.id,
        }
        if self.wechat_content_type == "article":
            values.update(msg_type="mpnews", article_id=self.wechat_article_id.id)
        else:
            values.update(msg_type="text", text_content=self.wechat_text.strip())
        # sudo: assistants may send campaigns but only read mass sends. This send
        # carries the campaign's own content to the campaign's own tag.
        return self.env["wechat.mass.send"].sudo().create(values)

    def _wechat_delete_tags(self, tags):
        """Delete campaign tags now, or leave them to the scheduled action after a WeChat error."""
        try:
            tags._wechat_delete()
        except WechatApiError as error:
            _logger.warning(
                "WeChat tags %s of campaign %s not deleted, retried later: %s",
                tags.ids,
                self.id,
                error.args[0],
            )

    # ------------------------------------------------------------
    # SCHEDULED ACTION
    # ------------------------------------------------------------

    @api.model
    def _cron_delete_wechat_tags(self):
        """Delete the campaigns' WeChat tags once their mass sends have finished.

        A send still "Submitted" is checked with message/mass/get in case the
        MASSSENDJOBFINISH event did not arrive. A tag whose send is still
        running is kept for the next run.
        """
        Send = self.env["wechat.mass.send"].sudo()
        tags = self.env["wechat.tag"].sudo().search([("fan_campaign_id", "!=", False)])
        for tag in tags:
            sends = Send.search([("tag_id", "=", tag.id)])
            try:
                sends.filtered(lambda s: s.state == "sent")._wechat_fetch_status()
                if any(send.state == "sent" for send in sends):
                    continue
                tag._wechat_delete()
            except WechatApiError as error:
                _logger.warning(
                    "WeChat tag %s of campaign %s not deleted, retried later: %s",
                    tag.id,
                    tag.fan_campaign_id.id,
                    error.args[0],
                )
