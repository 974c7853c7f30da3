import base64

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import WechatApiCase

# The smallest JPEG header is enough: the fake API stores the bytes as they arrive.
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"spoon workshop" * 10


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestMaterial(WechatApiCase):
    def setUp(self):
        super().setUp()
        self.fake_api.reset_counters()
        self.fake_api.materials.clear()
        self.Material = self.env["wechat.material"]

    def materials_of(self, media_type=None):
        domain = [("account_id", "=", self.api_account.id)]
        if media_type:
            domain.append(("media_type", "=", media_type))
        return self.Material.with_context(active_test=False).search(domain)

    def new_material(self, name, media_type="image", data=JPEG_BYTES, **extra):
        return self.Material.create(
            dict(
                {
                    "account_id": self.api_account.id,
                    "name": name,
                    "media_type": media_type,
                    "file": base64.b64encode(data),
                    "file_name": name,
                },
                **extra,
            )
        )

    # ------------------------------------------------------------
    # SYNC
    # ------------------------------------------------------------

    def test_sync_reads_pages_of_20(self):
        images = [self.fake_api.add_material("image", f"photo{i:02d}.jpg") for i in range(45)]
        voices = [self.fake_api.add_material("voice", f"voice{i}.mp3") for i in range(3)]
        self.fake_api.add_material("video", "lathe.mp4", title="Lathe", introduction="How to")

        created, updated, archived = self.Material._wechat_sync(self.api_account)

        self.assertEqual((created, updated, archived), (49, 0, 0))
        self.assertEqual(self.fake_api.calls["/cgi-bin/material/get_materialcount"], 1)
        # 45 images need 3 pages; voice and video one page each.
        self.assertEqual(self.fake_api.calls["/cgi-bin/material/batchget_material"], 5)
        pages = [
            (body["type"], body["offset"], body["count"])
            for _method, path, _query, body in self.fake_api.requests
            if path.endswith("batchget_material")
        ]
        expected_pages = [
            ("image", 0, 20),
            ("image", 20, 20),
            ("image", 40, 20),
            ("voice", 0, 20),
            ("video", 0, 20),
        ]
        self.assertEqual(pages, expected_pages)
        stored_images = self.materials_of("image")
        self.assertEqual(len(stored_images), 45)
        self.assertEqual(
            sorted(stored_images.mapped("media_id")), sorted(m["media_id"] for m in images)
        )
        first = stored_images.filtered(lambda m: m.media_id == images[0]["media_id"])
        self.assertEqual(first.name, "photo00.jpg")
        self.assertEqual(first.url, images[0]["url"])
        self.assertTrue(first.update_time)
        self.assertEqual(
            sorted(self.materials_of("voice").mapped("name")), [v["name"] for v in voices]
        )
        self.assertEqual(self.materials_of("video").name, "lathe.mp4")

    def test_sync_updates_and_archives(self):
        renamed = self.fake_api.add_material("image", "renamed.jpg")
        deleted = self.fake_api.add_material("image", "deleted.jpg")
        self.Material._wechat_sync(self.api_account)
        renamed["name"] = "renamed-on-wechat.jpg"
        del self.fake_api.materials[deleted["media_id"]]

        created, updated, archived = self.Material._wechat_sync(self.api_account)

        self.assertEqual((created, updated, archived), (0, 1, 1))
        materials = self.materials_of("image")
        self.assertEqual(len(materials), 2, "a material deleted on WeChat is archived, not deleted")
        by_media_id = {m.media_id: m for m in materials}
        self.assertEqual(by_media_id[renamed["media_id"]].name, "renamed-on-wechat.jpg")
        self.assertTrue(by_media_id[renamed["media_id"]].active)
        self.assertFalse(by_media_id[deleted["media_id"]].active)

    def test_sync_button_notifies_and_opens_list(self):
        self.fake_api.add_material("image", "one.jpg")
        action = self.api_account.action_sync_materials()

        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("1", action["params"]["message"])
        self.assertEqual(action["params"]["next"]["res_model"], "wechat.material")
        self.assertEqual(
            action["params"]["next"]["domain"], [("account_id", "=", self.api_account.id)]
        )
        self.assertEqual(self.api_account.material_count, 1)

    # ------------------------------------------------------------
    # UPLOAD
    # ------------------------------------------------------------

    def test_upload_image_returns_media_id(self):
        material = self.new_material("workshop.jpg")
        material.action_upload()

        self.assertTrue(material.media_id)
        stored = self.fake_api.materials[material.media_id]
        self.assertEqual(stored["type"], "image")
        self.assertEqual(stored["name"], "workshop.jpg")
        self.assertEqual(stored["data"], JPEG_BYTES, "the file arrives unchanged")
        self.assertEqual(material.url, stored["url"])
        self.assertTrue(material.update_time)
        upload = next(r for r in self.fake_api.requests if r[1].endswith("add_material"))
        self.assertEqual(upload[2]["type"], "image")

    def test_upload_video_sends_title_and_introduction(self):
        material = self.new_material(
            "lathe.mp4",
            "video",
            b"\x00\x00\x00\x18ftypmp42",
            title="车床入门",
            description="十分钟",
        )
        material.action_upload()

        stored = self.fake_api.materials[material.media_id]
        self.assertEqual(stored["type"], "video")
        self.assertEqual(stored["title"], "车床入门")
        self.assertEqual(stored["introduction"], "十分钟")
        self.assertFalse(material.url, "WeChat returns a URL for images only")

    def test_upload_rejected_before_calling_wechat(self):
        cases = [
            (self.new_material("notes.txt"), "bmp, png, jpeg, jpg, gif"),
            (self.new_material("big.jpg", "thumb", b"\xff" * (64 * 1024 + 1)), "at most 64 KB"),
            (self.new_material("clip.mp4", "video", b"video"), "title and a description"),
            (
                self.Material.create(
                    {"account_id": self.api_account.id, "name": "empty.jpg", "media_type": "image"}
                ),
                "has no file",
            ),
        ]
        for material, expected in cases:
            with self.subTest(name=material.name), self.assertRaises(UserError) as catcher:
                material.action_upload()
            self.assertIn(expected, str(catcher.exception))
        self.assertEqual(self.fake_api.calls["/cgi-bin/material/add_material"], 0)

    def test_upload_twice_rejected(self):
        material = self.new_material("once.jpg")
        material.action_upload()
        with self.assertRaises(UserError) as catcher:
            material.action_upload()
        self.assertIn("already on WeChat", str(catcher.exception))
        self.assertEqual(self.fake_api.calls["/cgi-bin/material/add_material"], 1)

    # ------------------------------------------------------------
    # DELETE
    # ------------------------------------------------------------

    def test_delete_removes_material_on_wechat(self):
        material = self.new_material("old.jpg")
        material.action_upload()
        media_id = material.media_id

        material.unlink()

        self.assertNotIn(media_id, self.fake_api.materials)
        deletion = [r for r in self.fake_api.requests if r[1].endswith("del_material")]
        self.assertEqual(deletion[0][3], {"media_id": media_id})
        self.assertFalse(self.materials_of())

    def test_delete_already_gone_on_wechat(self):
        material = self.new_material("gone.jpg")
        material.action_upload()
        del self.fake_api.materials[material.media_id]

        material.unlink()

        self.assertFalse(self.materials_of(), "errcode 40007 means it is already deleted")

    def test_delete_used_material_rejected(self):
        material = self.new_material("menu.jpg")
        material.action_upload()
        self.env["wechat.reply.rule"].create(
            {
                "account_id": self.api_account.id,
                "keyword": "海报",
                "reply_type": "image",
                "material_id": material.id,
            }
        )
        with self.assertRaises(UserError) as catcher:
            material.unlink()

        self.assertIn("海报", str(catcher.exception))
        self.assertIn(material.media_id, self.fake_api.materials, "nothing is deleted on WeChat")
        self.assertEqual(self.fake_api.calls["/cgi-bin/material/del_material"], 0)

    def test_delete_failure_keeps_material(self):
        material = self.new_material("kept.jpg")
        material.action_upload()
        self.fake_api.fail("/cgi-bin/material/del_material", 45009)

        with self.assertRaises(UserError):
            material.unlink()
        self.assertTrue(material.exists())


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestArticleLink(WechatApiCase):
    def test_fetch_link_after_publishing(self):
        cover = self.fake_api.add_material("image", "cover.jpg")
        self.env["wechat.material"]._wechat_sync(self.api_account)
        article = self.env["wechat.article"].create(
            {
                "account_id": self.api_account.id,
                "title": "木勺的保养",
                "digest": "三步护理",
                "content": "<p>每月上一次油。</p>",
                "thumb_media_id": cover["media_id"],
            }
        )
        article.action_publish()
        article.action_fetch_link()

        self.assertTrue(article.article_id)
        self.assertEqual(article.article_url, f"{self.fake_api.base_url}/s/{article.article_id}")
        self.assertEqual(article.cover_url, cover["url"])
        request = next(r for r in self.fake_api.requests if r[1].endswith("freepublish/get"))
        self.assertEqual(request[3], {"publish_id": article.publish_id})

    def test_fetch_link_needs_publishing(self):
        article = self.env["wechat.article"].create(
            {
                "account_id": self.api_account.id,
                "title": "草稿",
                "content": "<p>x</p>",
                "thumb_media_id": "MEDIAIMAGE999999",
            }
        )
        with self.assertRaises(UserError) as catcher:
            article.action_fetch_link()
        self.assertIn("Publish it first", str(catcher.exception))
