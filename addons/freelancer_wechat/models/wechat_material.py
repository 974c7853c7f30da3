import base64
import logging
import mimetypes
import os
from datetime import UTC, datetime

from odoo import api, fields, models
from odoo.exceptions import UserError

from .wechat_account_api import WechatApiError

_logger = logging.getLogger(__name__)

MATERIAL_TYPES = [
    ("image", "Image"),
    ("voice", "Voice"),
    ("video", "Video"),
    ("thumb", "Thumbnail"),
]
# material/batchget_material lists these types; thumbnails are only uploaded.
SYNC_TYPES = ("image", "voice", "video")
# batchget_material returns 1 to 20 materials per call.
BATCH_SIZE = 20
# errcode of material/del_material for a media ID that WeChat does not know.
INVALID_MEDIA_ID_ERRCODE = 40007
# Maximum file size in bytes and accepted extensions per material type, as
# listed in WeChat's material documentation (Adding_Permanent_Assets).
# NOTE: older copies of that page give 2 MB for images; WeChat rejects a
# larger image itself, and its error is shown.
UPLOAD_LIMITS = {
    "image": (10 * 1024 * 1024, ("bmp", "png", "jpeg", "jpg", "gif")),
    "voice": (2 * 1024 * 1024, ("mp3", "wma", "wav", "amr")),
    "video": (10 * 1024 * 1024, ("mp4",)),
    "thumb": (64 * 1024, ("jpg", "jpeg")),
}


class WechatMaterial(models.Model):
    """A permanent material (永久素材) of an Official Account: image, voice, video or thumbnail."""

    _name = "wechat.material"
    _description = "WeChat Material"
    _order = "update_time desc, id desc"

    account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        required=True,
        ondelete="cascade",
        index=True,
    )
    name = fields.Char(required=True, help="File name, as shown in the WeChat back office.")
    media_type = fields.Selection(MATERIAL_TYPES, string="Type", required=True, default="image")
    active = fields.Boolean(
        default=True,
        help="A material deleted in the WeChat back office is archived by the next sync.",
    )
    media_id = fields.Char(
        string="Media ID",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Returned by WeChat on upload; replies send the material by this ID.",
    )
    url = fields.Char(
        string="URL",
        readonly=True,
        copy=False,
        help="Address of an image on WeChat's servers. It only opens inside WeChat.",
    )
    update_time = fields.Datetime(string="Updated on WeChat", readonly=True, copy=False)
    title = fields.Char(help="Title of a video, required to upload it and shown in video replies.")
    description = fields.Text(
        help="Introduction of a video, required to upload it and shown in video replies."
    )
    file = fields.Binary(attachment=True, copy=False, help="The file to upload to WeChat.")
    file_name = fields.Char()

    _media_id_unique = models.Constraint(
        "UNIQUE(account_id, media_id)",
        "This Official Account already has a material with this media ID.",
    )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    def unlink(self):
        """Delete the materials on WeChat (material/del_material), then in Odoo.

        A material still used by a reply is not deleted, because the reply
        would then send a media ID that no longer exists on WeChat.
        """
        self._check_not_used()
        for material in self.filtered("media_id"):
            material._wechat_delete_remote()
        return super().unlink()

    def _check_not_used(self):
        rules = (
            self.env["wechat.reply.rule"]
            .with_context(active_test=False)
            .search([("material_id", "in", self.ids)])
        )
        accounts = (
            self.env["wechat.account"]
            .with_context(active_test=False)
            .search(
                [
                    "|",
                    ("welcome_material_id", "in", self.ids),
                    ("default_material_id", "in", self.ids),
                ]
            )
        )
        users = [
            self.env._("keyword reply “%(keyword)s”", keyword=rule.keyword) for rule in rules
        ] + [
            self.env._("automatic replies of “%(account)s”", account=account.name)
            for account in accounts
        ]
        if users:
            raise UserError(
                self.env._(
                    "The material cannot be deleted because these replies send it: "
                    "%(replies)s. Choose another material for them first.",
                    replies=", ".join(users),
                )
            )

    def _wechat_delete_remote(self):
        self.ensure_one()
        try:
            self.account_id._wechat_call(
                lambda client: client.material.delete(self.media_id),
                self.env._("Material deletion"),
            )
        except WechatApiError as error:
            if error.errcode != INVALID_MEDIA_ID_ERRCODE:
                raise
            _logger.info(
                "WeChat material %s of account %s was already deleted on WeChat",
                self.id,
                self.account_id.id,
            )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_upload(self):
        """Upload the file as a permanent material (material/add_material)."""
        for material in self:
            material._check_upload()
            result = material.account_id._wechat_call(
                material._wechat_add_material,
                self.env._("Material upload"),
            )
            material.write(
                {
                    "media_id": result["media_id"],
                    "url": result.get("url") or False,
                    "update_time": fields.Datetime.now(),
                }
            )
            _logger.info(
                "WeChat material %s of account %s uploaded as %s",
                material.id,
                material.account_id.id,
                material.media_type,
            )
        return True

    def _wechat_add_material(self, client):
        self.ensure_one()
        file_name = self.file_name or self.name
        mimetype = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        media = (file_name, base64.b64decode(self.file), mimetype)
        if self.media_type == "video":
            return client.material.add("video", media, self.title, self.description)
        return client.material.add(self.media_type, media)

    def _check_upload(self):
        self.ensure_one()
        if self.media_id:
            raise UserError(
                self.env._(
                    "“%(name)s” is already on WeChat (media ID %(media_id)s).",
                    name=self.name,
                    media_id=self.media_id,
                )
            )
        if not self.file:
            raise UserError(
                self.env._("“%(name)s” has no file. Add the file, then upload.", name=self.name)
            )
        max_size, extensions = UPLOAD_LIMITS[self.media_type]
        type_label = dict(self._fields["media_type"]._description_selection(self.env))[
            self.media_type
        ]
        extension = os.path.splitext(self.file_name or self.name)[1].lstrip(".").lower()
        if extension not in extensions:
            raise UserError(
                self.env._(
                    "“%(name)s” cannot be uploaded as %(type)s: WeChat accepts only "
                    "%(extensions)s files. Convert the file or choose another type.",
                    name=self.file_name or self.name,
                    type=type_label,
                    extensions=", ".join(extensions),
                )
            )
        size = len(base64.b64decode(self.file))
        if size > max_size:
            raise UserError(
                self.env._(
                    "“%(name)s” has %(size)s KB, but WeChat accepts at most %(max)s KB for "
                    "%(type)s materials. Use a smaller file.",
                    name=self.file_name or self.name,
                    size=size // 1024,
                    max=max_size // 1024,
                    type=type_label,
                )
            )
        if self.media_type == "video" and not (self.title and self.description):
            raise UserError(
                self.env._(
                    "The video “%(name)s” needs a title and a description: WeChat requires "
                    "both to upload a video.",
                    name=self.name,
                )
            )

    # ------------------------------------------------------------
    # SYNC
    # ------------------------------------------------------------

    @api.model
    def _wechat_sync(self, account):
        """Fetch the account's image, voice and video materials and store them.

        material/get_materialcount gives the count per type and
        material/batchget_material is read in pages of 20. New materials are
        created, known ones updated, and active materials that WeChat no
        longer lists are archived. Return ``(created, updated, archived)``.
        """
        feature = self.env._("Material sync")
        counts = account._wechat_call(lambda client: client.material.get_count(), feature)
        existing = {
            material.media_id: material
            for material in self.with_context(active_test=False).search(
                [("account_id", "=", account.id), ("media_id", "!=", False)]
            )
        }
        created = updated = archived = 0
        for media_type in SYNC_TYPES:
            seen = set()
            total = int(counts.get(f"{media_type}_count") or 0)
            offset = 0
            while offset < total:
                page = account._wechat_call(
                    lambda client, media_type=media_type, offset=offset: client.material.batchget(
                        media_type, offset, BATCH_SIZE
                    ),
                    feature,
                )
                items = page.get("item") or []
                if not items:
                    break
                for item in items:
                    seen.add(item["media_id"])
                    vals = self._vals_from_item(item)
                    material = existing.get(item["media_id"])
                    if material:
                        material.write(vals)
                        updated += 1
                    else:
                        vals.update(
                            {
                                "account_id": account.id,
                                "media_type": media_type,
                                "media_id": item["media_id"],
                            }
                        )
                        existing[item["media_id"]] = self.create(vals)
                        created += 1
                offset += len(items)
                # The count can change while the pages are read.
                total = int(page.get("total_count") or total)
            deleted_on_wechat = [
                material
                for media_id, material in existing.items()
                if material.active and material.media_type == media_type and media_id not in seen
            ]
            for material in deleted_on_wechat:
                material.active = False
            archived += len(deleted_on_wechat)
        _logger.info(
            "WeChat materials of account %s synchronized: %s created, %s updated, %s archived",
            account.id,
            created,
            updated,
            archived,
        )
        return created, updated, archived

    @api.model
    def _vals_from_item(self, item):
        vals = {"name": item.get("name") or item["media_id"], "active": True}
        if item.get("url"):
            vals["url"] = item["url"]
        if item.get("update_time"):
            vals["update_time"] = datetime.fromtimestamp(int(item["update_time"]), tz=UTC).replace(
                tzinfo=None
            )
        return vals
