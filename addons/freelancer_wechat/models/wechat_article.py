from odoo import fields, models
from odoo.exceptions import UserError


class WechatArticle(models.Model):
    """An article (图文) drafted in Odoo, uploaded with draft/add and published."""

    _name = "wechat.article"
    _description = "WeChat Article"
    _order = "id desc"
    _rec_name = "title"

    account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        required=True,
        ondelete="cascade",
        index=True,
    )
    title = fields.Char(required=True, help="At most 32 characters are shown in WeChat.")
    author = fields.Char()
    digest = fields.Text(
        string="Summary", help="Shown under the title in the chat; at most 128 characters."
    )
    content = fields.Html(
        required=True, sanitize_style=True, help="Article body; WeChat strips JavaScript."
    )
    content_source_url = fields.Char(string="Read More URL")
    thumb_media_id = fields.Char(
        string="Cover Media ID",
        required=True,
        help="media_id of the cover image, uploaded as a permanent material in the WeChat "
        "back office or through the material API.",
    )
    state = fields.Selection(
        [("draft", "In Odoo"), ("uploaded", "Draft on WeChat"), ("published", "Published")],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
    )
    media_id = fields.Char(
        string="Draft Media ID", readonly=True, copy=False, help="Returned by draft/add."
    )
    publish_id = fields.Char(readonly=True, copy=False, help="Returned by freepublish/submit.")

    def _draft_payload(self):
        self.ensure_one()
        return {
            "title": self.title,
            "author": self.author or "",
            "digest": self.digest or "",
            "content": self.content or "",
            "content_source_url": self.content_source_url or "",
            "thumb_media_id": self.thumb_media_id,
            "need_open_comment": 0,
            "only_fans_can_comment": 0,
        }

    def action_upload_draft(self):
        """Upload the article with draft/add, which wechatpy 1.8.18 does not wrap."""
        for article in self:
            if article.media_id:
                raise UserError(
                    self.env._(
                        "“%(title)s” is already a draft on WeChat (media ID %(media_id)s).",
                        title=article.title,
                        media_id=article.media_id,
                    )
                )
            result = article.account_id._wechat_call(
                lambda client, article=article: client.post(
                    "draft/add", data={"articles": [article._draft_payload()]}
                ),
                self.env._("Draft upload"),
            )
            article.write({"media_id": result["media_id"], "state": "uploaded"})
        return True

    def action_publish(self):
        """Publish the uploaded draft with freepublish/submit."""
        for article in self:
            if not article.media_id:
                article.action_upload_draft()
            result = article.account_id._wechat_call(
                lambda client, article=article: client.post(
                    "freepublish/submit", data={"media_id": article.media_id}
                ),
                self.env._("Publishing"),
            )
            article.write({"publish_id": str(result.get("publish_id") or ""), "state": "published"})
        return True
