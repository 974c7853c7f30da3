from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import WechatApiCase


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestMenuButton(WechatApiCase):
    def setUp(self):
        super().setUp()
        self.fake_api.reset_counters()
        self.fake_api.menus.clear()
        self.Button = self.env["wechat.menu.button"]

    def button(self, name, parent=None, **extra):
        vals = {"account_id": self.api_account.id, "name": name, "key": f"KEY_{name}"}
        if parent:
            vals["parent_id"] = parent.id
        return self.Button.create(dict(vals, **extra))

    def test_publish_menu(self):
        courses = self.button("课程")
        self.button("陶艺", parent=courses)
        self.button("报名", parent=courses, button_type="view", url="https://example.com/a")
        self.button("联系")

        self.api_account.action_publish_menu()

        self.assertEqual(len(self.fake_api.menus), 1)
        menu = self.fake_api.menus[0]["button"]
        self.assertEqual(menu[0]["name"], "课程")
        self.assertEqual(
            menu[0]["sub_button"][0], {"type": "click", "name": "陶艺", "key": "KEY_陶艺"}
        )
        self.assertEqual(menu[0]["sub_button"][1]["url"], "https://example.com/a")
        self.assertEqual(menu[1], {"type": "click", "name": "联系", "key": "KEY_联系"})

    def test_three_top_level_max(self):
        for index in range(3):
            self.button(f"b{index}")
        with self.assertRaises(ValidationError):
            self.button("b3")

    def test_five_sub_buttons_max(self):
        parent = self.button("parent")
        for index in range(5):
            self.button(f"s{index}", parent=parent)
        with self.assertRaises(ValidationError):
            self.button("s5", parent=parent)

    def test_no_third_level(self):
        parent = self.button("parent")
        child = self.button("child", parent=parent)
        with self.assertRaises(ValidationError):
            self.button("grandchild", parent=child)

    def test_name_byte_limit(self):
        with self.assertRaises(ValidationError):
            self.button("六个汉字名字")  # 18 bytes, the top-level maximum is 16

    def test_view_without_url_rejected_on_publish(self):
        self.button("web", button_type="view")
        with self.assertRaises(ValidationError):
            self.api_account.action_publish_menu()
        self.assertFalse(self.fake_api.menus)
