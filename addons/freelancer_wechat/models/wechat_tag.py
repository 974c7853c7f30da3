import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

from .wechat_account_api import WechatApiError

_logger = logging.getLogger(__name__)

# WeChat limits: 100 tags per account, 20 tags per follower, 50 OpenIDs per
# batchtagging call. WeChat's tags/create documentation allows names of 30
# characters, but the message of its errcode 45158 gives 30 bytes, so the
# stricter limit is used.
MAX_TAGS_PER_ACCOUNT = 100
MAX_TAGS_PER_FAN = 20
TAGGING_BATCH_SIZE = 50
MAX_TAG_NAME_BYTES = 30
# errcode of a follower who already has 20 tags.
TOO_MANY_TAGS_PER_FAN_ERRCODE = 45059
# errcode of a tag ID that does not exist on WeChat.
UNKNOWN_TAG_ERRCODE = 45159


class WechatTag(models.Model):
    _name = "wechat.tag"
    _description = "WeChat Follower Tag"
    _order = "account_id, name"

    name = fields.Char(required=True)
    account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        required=True,
        ondelete="cascade",
        index=True,
    )
    wechat_id = fields.Integer(
        string="WeChat Tag ID", readonly=True, copy=False, help="Empty until the tag is pushed."
    )
    wechat_count = fields.Integer(
        string="Followers on WeChat", readonly=True, help="Count returned by the last pull."
    )
    tier_id = fields.Many2one(
        comodel_name="fan.tier", string="From Tier", help="Push the fans of this tier."
    )
    segment_id = fields.Many2one(
        comodel_name="fan.segment",
        string="From Segment",
        help="Push the members of this segment who granted WeChat consent.",
    )
    partner_ids = fields.Many2many(
        comodel_name="res.partner",
        relation="wechat_tag_partner_rel",
        column1="tag_id",
        column2="partner_id",
        string="Tagged Fans",
        readonly=True,
        help="Fans tagged on WeChat by a push from Odoo.",
    )

    _wechat_id_unique = models.Constraint(
        "UNIQUE(account_id, wechat_id)", "This WeChat tag is already linked to another tag."
    )

    @api.constrains("tier_id", "segment_id")
    def _check_single_source(self):
        for tag in self:
            if tag.tier_id and tag.segment_id:
                raise UserError(
                    self.env._(
                        "The tag “%(tag)s” can take its fans from a tier or a segment, not both.",
                        tag=tag.name,
                    )
                )

    # ------------------------------------------------------------
    # PULL
    # ------------------------------------------------------------

    @api.model
    def _wechat_pull(self, account):
        """Create or update the account's tags from ``tags/get``; return them."""
        remote = account._wechat_call(lambda client: client.tag.get(), self.env._("Tag download"))
        existing = {
            tag.wechat_id: tag
            for tag in self.search([("account_id", "=", account.id), ("wechat_id", "!=", 0)])
        }
        tags = self.browse()
        for item in remote:
            vals = {"name": item["name"], "wechat_count": item.get("count") or 0}
            tag = existing.get(item["id"])
            if tag:
                tag.write(vals)
            else:
                tag = self.create(dict(vals, account_id=account.id, wechat_id=item["id"]))
            tags |= tag
        # Tags deleted in the WeChat back office lose their link but keep their source.
        stale = self.browse([tag.id for wechat_id, tag in existing.items() if tag not in tags])
        stale.write({"wechat_id": 0, "wechat_count": 0, "partner_ids": [(5,)]})
        return tags

    # ------------------------------------------------------------
    # PUSH
    # ------------------------------------------------------------

    def _get_source_partners(self):
        self.ensure_one()
        Partner = self.env["res.partner"]
        if self.tier_id:
            domain = [("fan_tier_id", "=", self.tier_id.id)]
            return Partner.search(domain) & Partner.search(Partner._fan_consent_domain("wechat"))
        if self.segment_id:
            return Partner.search(self.segment_id._get_partner_domain("wechat"))
        raise UserError(
            self.env._(
                "The tag “%(tag)s” has no tier or segment to take its fans from. Choose one, "
                "then push again.",
                tag=self.name,
            )
        )

    def _wechat_ensure_remote(self):
        """Create the tag on WeChat when it has no WeChat ID yet."""
        self.ensure_one()
        if self.wechat_id:
            return
        if len(self.name.encode("utf-8")) > MAX_TAG_NAME_BYTES:
            raise UserError(
                self.env._(
                    "The tag name “%(tag)s” is too long: WeChat accepts at most 30 bytes, "
                    "that is 10 Chinese characters or 30 Latin letters. Shorten it, then push "
                    "again.",
                    tag=self.name,
                )
            )
        linked = self.search_count(
            [("account_id", "=", self.account_id.id), ("wechat_id", "!=", 0)]
        )
        if linked >= MAX_TAGS_PER_ACCOUNT:
            raise UserError(
                self.env._(
                    "The Official Account “%(account)s” already has %(count)s tags, the maximum "
                    "WeChat allows. Delete a tag in the WeChat back office, pull the tags "
                    "again, then push.",
                    account=self.account_id.name,
                    count=linked,
                )
            )
        result = self.account_id._wechat_call(
            lambda client: client.tag.create(self.name), self.env._("Tag creation")
        )
        self.wechat_id = result["id"]

    def _openids_of(self, partners):
        """Return ``{openid: partner}`` for the partners' OpenIDs on the tag's account."""
        identities = self.account_id._wechat_openid_identities(partners)
        return {identity.value: identity.partner_id for identity in identities}

    @api.model
    def _partners_with_max_tags(self, account, partners):
        """Return the ``partners`` who already have 20 tags on ``account``.

        Only the memberships stored in Odoo count, so those set in the WeChat
        back office since the last follower sync are missing.
        """
        if not partners:
            return partners.browse()
        self.flush_model(["account_id", "partner_ids"])
        self.env.cr.execute(
            """
            SELECT rel.partner_id
              FROM wechat_tag_partner_rel rel
              JOIN wechat_tag tag ON tag.id = rel.tag_id
             WHERE tag.account_id = %s AND rel.partner_id = ANY(%s)
             GROUP BY rel.partner_id
            HAVING count(*) >= %s
            """,
            [account.id, partners.ids, MAX_TAGS_PER_FAN],
        )
        return partners.browse([row[0] for row in self.env.cr.fetchall()])

    def _check_tags_per_fan(self, partners):
        full = self._partners_with_max_tags(self.account_id, partners - self.partner_ids)
        if full:
            raise UserError(
                self.env._(
                    "%(count)s fans already have %(max)s tags on “%(account)s”, the maximum "
                    "WeChat allows per follower (for example %(names)s). Remove them from a "
                    "tag first.",
                    count=len(full),
                    max=MAX_TAGS_PER_FAN,
                    account=self.account_id.name,
                    names=", ".join(full[:3].mapped("display_name")),
                )
            )

    def _wechat_tag_partners(self, partners):
        """Tag ``partners`` on WeChat, 50 OpenIDs per batchtagging call.

        Returns ``(tagged, rejected)``: the partners tagged (or tagged before),
        and those WeChat rejected because they already have 20 tags (errcode
        45059). A batch with such a follower is tagged again one OpenID at a
        time to find them. Any other WeChat error is raised.
        """
        self.ensure_one()
        by_openid = self._openids_of(partners)
        already = set(self._openids_of(self.partner_ids))
        openids = [openid for openid in by_openid if openid not in already]
        feature = self.env._("Tagging followers")
        rejected = []
        for index in range(0, len(openids), TAGGING_BATCH_SIZE):
            chunk = openids[index : index + TAGGING_BATCH_SIZE]
            try:
                self._wechat_batch_tag(chunk, feature)
            except WechatApiError as error:
                if error.errcode != TOO_MANY_TAGS_PER_FAN_ERRCODE:
                    raise
                for openid in chunk:
                    try:
                        self._wechat_batch_tag([openid], feature)
                    except WechatApiError as single_error:
                        if single_error.errcode != TOO_MANY_TAGS_PER_FAN_ERRCODE:
                            raise
                        rejected.append(openid)
            accepted = [openid for openid in chunk if openid not in rejected]
            self.partner_ids = [Command.link(by_openid[openid].id) for openid in accepted]
        rejected_partners = self.env["res.partner"].browse(
            [by_openid[openid].id for openid in rejected]
        )
        tagged = self.env["res.partner"].browse(
            [partner.id for openid, partner in by_openid.items() if openid not in rejected]
        )
        if rejected:
            _logger.info(
                "WeChat tag %s of account %s: %s followers already had 20 tags",
                self.wechat_id,
                self.account_id.id,
                len(rejected),
            )
        return tagged, rejected_partners

    def _wechat_untag_partners(self, partners):
        """Remove the tag from ``partners`` on WeChat, 50 OpenIDs per batchuntagging call."""
        self.ensure_one()
        by_openid = self._openids_of(partners)
        openids = list(by_openid)
        feature = self.env._("Untagging followers")
        for index in range(0, len(openids), TAGGING_BATCH_SIZE):
            chunk = openids[index : index + TAGGING_BATCH_SIZE]
            self.account_id._wechat_call(
                lambda client, chunk=chunk: client.tag.untag_user(self.wechat_id, chunk), feature
            )
            self.partner_ids = [Command.unlink(by_openid[openid].id) for openid in chunk]
        # Fans without an OpenID on this account cannot carry the tag on WeChat.
        self.partner_ids = [
            Command.unlink(partner.id) for partner in partners if partner not in by_openid.values()
        ]

    def _wechat_batch_tag(self, openids, feature):
        self.account_id._wechat_call(
            lambda client: client.tag.tag_user(self.wechat_id, openids), feature
        )

    def _wechat_delete(self):
        """Delete the tags on WeChat (tags/delete), then in Odoo.

        A tag already deleted on WeChat (errcode 45159) is only deleted in Odoo.
        """
        for tag in self:
            if tag.wechat_id:
                try:
                    tag.account_id._wechat_call(
                        lambda client, tag=tag: client.tag.delete(tag.wechat_id),
                        self.env._("Tag deletion"),
                    )
                except WechatApiError as error:
                    if error.errcode != UNKNOWN_TAG_ERRCODE:
                        raise
            _logger.info("WeChat tag %s of account %s deleted", tag.wechat_id, tag.account_id.id)
        self.unlink()

    def action_delete_on_wechat(self):
        """Delete the tags on WeChat and in Odoo, then show the remaining tags."""
        self._wechat_delete()
        return self.env["ir.actions.act_window"]._for_xml_id("freelancer_wechat.wechat_tag_action")

    def action_push(self):
        """Tag the source fans on WeChat and untag the fans who left the source."""
        for tag in self:
            partners = tag._get_source_partners()
            tag._check_tags_per_fan(partners)
            tag._wechat_ensure_remote()
            leaving = tag.partner_ids - partners
            if leaving:
                tag._wechat_untag_partners(leaving)
            _tagged, rejected = tag._wechat_tag_partners(partners)
            if rejected:
                raise UserError(
                    self.env._(
                        "WeChat did not tag %(count)s fans because they already have %(max)s "
                        "tags, the maximum per follower (for example %(names)s). Remove them "
                        "from a tag in the WeChat back office, then push again.",
                        count=len(rejected),
                        max=MAX_TAGS_PER_FAN,
                        names=", ".join(rejected[:3].mapped("display_name")),
                    )
                )
        return True
