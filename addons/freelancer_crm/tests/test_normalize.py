from odoo.tests import tagged

from odoo.addons.freelancer_crm.tools import mask_phone, normalize_email, normalize_phone
from odoo.addons.freelancer_crm.tools.tabular import TableError, read_table

from .common import FanCase


@tagged("post_install", "-at_install")
class TestNormalize(FanCase):
    def test_phone_shapes_from_china(self):
        for raw in (
            "138 0013 8000",
            "+86-13800138000",
            "86 13800138000",
            "8613800138000",
            "0086 138 0013 8000",
            "138-0013-8000",
            " 13800138000 ",
        ):
            with self.subTest(raw=raw):
                self.assertEqual(normalize_phone(raw), "+8613800138000")

    def test_phone_landline_and_invalid(self):
        self.assertEqual(normalize_phone("010-12345678"), "+861012345678")
        self.assertEqual(normalize_phone("(021)6888 8888"), "+862168888888")
        self.assertFalse(normalize_phone("12345"))
        self.assertFalse(normalize_phone("not a phone"))
        self.assertFalse(normalize_phone(""))

    def test_email_case_and_spaces(self):
        self.assertEqual(normalize_email("  Li.Na@Example.COM "), "li.na@example.com")
        self.assertFalse(normalize_email("li.na at example.com"))

    def test_email_with_extra_at_rejected(self):
        for raw in ("bad@@mail", "foo@bar@baz.com", "@example.com", "a@b", "a@b.c d"):
            with self.subTest(raw=raw):
                self.assertFalse(normalize_email(raw))

    def test_mask_phone_hides_middle(self):
        self.assertEqual(mask_phone("+8613800138000"), "+8613****00")
        self.assertNotIn("0013800", mask_phone("+8613800138000"))

    def test_read_table_encodings(self):
        text = "姓名,手机,邮箱\n王芳,138 0013 8000,Wang.Fang@Example.com\n"
        for encoding in ("utf-8", "utf-8-sig", "gbk", "gb18030"):
            with self.subTest(encoding=encoding):
                header, rows, found = read_table(text.encode(encoding))
                self.assertEqual(header, ["姓名", "手机", "邮箱"])
                self.assertEqual(rows[0][0], "王芳")
                self.assertIn(found, ("utf-8-sig", "gb18030"))

    def test_read_table_semicolons_and_blank_rows(self):
        header, rows, _encoding = read_table("name;email\n\n张伟;zw@example.com\n;\n".encode())
        self.assertEqual(header, ["name", "email"])
        self.assertEqual(rows, [["张伟", "zw@example.com"]])

    def test_read_table_keeps_rare_names_in_gbk(self):
        text = (
            "姓名,手机\n王芳,13800138000\n郑浩然,13800138001\n张喆,13800138002\n李昇,13800138003\n"
        )
        _header, rows, encoding = read_table(text.encode("gbk"))
        self.assertEqual(encoding, "gb18030")
        self.assertEqual(rows[2][0], "张喆")

    def test_read_table_rejects_big5_and_shift_jis(self):
        for encoding in ("big5", "shift_jis"):
            with self.subTest(encoding=encoding):
                data = "name,email\n陳雅婷,chen@example.com\n林志豪,lin@example.com\n".encode(
                    encoding, errors="ignore"
                )
                if encoding == "shift_jis":
                    data = "name,email\n山田太郎,yamada@example.com\n".encode(encoding)
                with self.assertRaises(TableError):
                    read_table(data)

    def test_read_table_rejects_binary_and_empty(self):
        with self.assertRaises(TableError):
            read_table(b"")
        with self.assertRaises(TableError):
            read_table(b"\xff\xfe\x00\x81\x30\x81")
