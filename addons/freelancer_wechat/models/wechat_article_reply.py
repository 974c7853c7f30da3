import logging

from odoo import fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

# publish_status of freepublish/get: 0 is success and 1 still publishing.
PUBLISH_SUCCESS = 0
PUBLISH_RUNNING = 1


class WechatArticle(models.Model):
    """The link of a published article, which article replies need."""

    _inherit = "wechat.article"

    article_id = fields.Char(
        string="Article ID",
        readonly=True,
        copy=False,
        help="Returned by freepublish/get once publishing succeeded. Late replies send "
        "the article by this ID.",
    )
    article_url = fields.Char(
        string="Article Link",
        copy=False,
        help="Permanent link of the published article, filled by Fetch Link "
        "(freepublish/get). Article replies open it.",
    )
    cover_url = fields.Char(
        string="Cover URL",
        compute="_compute_cover_url",
        help="URL of the image material whose media ID is the cover media ID. Article "
        "replies show it; sync the materials when it is empty.",
    )

    def _compute_cover_url(self):
        cover_ids = [media_id for media_id in self.mapped("thumb_media_id") if media_id]
        materials = self.env["wechat.material"].search(
            [
                ("account_id", "in", self.account_id.ids),
                ("media_id", "in", cover_ids),
                ("url", "!=", False),
            ]
        )
        urls = {(material.account_id.id, material.media_id): material.url for material in materials}
        for article in self:
            article.cover_url = urls.get((article.account_id.id, article.thumb_media_id), False)

    def action_fetch_link(self):
        """Read the publishing result (freepublish/get) and store the article's link."""
        for article in self:
            if not article.publish_id:
                raise UserError(
                    self.env._(
                        "“%(title)s” has not been published from Odoo, so WeChat has no "
                        "publishing result for it. Publish it first.",
                        title=article.title,
                    )
                )
            result = article.account_id._wechat_call(
                lambda client, article=article: client.post(
                    "freepublish/get", data={"publish_id": article.publish_id}
                ),
                self.env._("Article link"),
            )
            article._apply_publish_result(result)
        return True

    def _apply_publish_result(self, result):
        self.ensure_one()
        status = int(result.get("publish_status", -1))
        if status == PUBLISH_RUNNING:
            raise UserError(
                self.env._(
                    "WeChat is still publishing “%(title)s”. Try again in a minute.",
                    title=self.title,
                )
            )
        if status != PUBLISH_SUCCESS:
            reasons = {
                2: self.env._("the originality check failed"),
                3: self.env._("publishing failed"),
                4: self.env._("the platform review rejected it"),
                5: self.env._("all its articles were deleted after publishing"),
                6: self.env._("WeChat blocked all its articles after publishing"),
            }
            raise UserError(
                self.env._(
                    "“%(title)s” has no link: %(reason)s (publish_status %(status)s).",
                    title=self.title,
                    reason=reasons.get(status, self.env._("unknown publishing status")),
                    status=status,
                )
            )
        items = (result.get("article_detail") or {}).get("item") or []
        self.write(
            {
                "article_id": result.get("article_id") or False,
                "article_url": items[0].get("article_url") if items else False,
            }
        )
        _logger.info("Link of WeChat article %s fetched", self.id)
