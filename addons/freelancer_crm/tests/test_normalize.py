import io

import openpyxl

from odoo.tests import tagged
from odoo.tools import email_normalize

from odoo.addons.base.models.ir_mail_server import extract_rfc2822_addresses
from odoo.addons.freelancer_crm.tools import (
    mask_phone,
    normalize_email,
    normalize_phone,
    split_phones,
)
from odoo.addons.freelancer_crm.tools.tabular import FormulaText, TableError, read_table

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
                table = read_table(text.encode(encoding))
                self.assertEqual(table.header, ["姓名", "手机", "邮箱"])
                self.assertEqual(table.rows[0][0], "王芳")
                self.assertIn(table.encoding, ("utf-8-sig", "gb18030"))

    def test_read_table_semicolons_and_blank_rows(self):
        table = read_table("name;email\n\n张伟;zw@example.com\n;\n".encode())
        self.assertEqual(table.header, ["name", "email"])
        self.assertEqual(table.rows, [["张伟", "zw@example.com"]])

    def test_read_table_keeps_rare_names_in_gbk(self):
        text = (
            "姓名,手机\n王芳,13800138000\n郑浩然,13800138001\n张喆,13800138002\n李昇,13800138003\n"
        )
        table = read_table(text.encode("gbk"))
        self.assertEqual(table.encoding, "gb18030")
        self.assertEqual(table.rows[2][0], "张喆")

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

    def test_email_longer_than_rfc_5321_rejected(self):
        domain = "@example.com"
        self.assertEqual(len(normalize_email("a" * 64 + domain)), 76)
        self.assertFalse(normalize_email("a" * 65 + domain), "local part over 64 characters")
        labels = ["b" * 63, "c" * 63, "d" * 57, "com"]
        longest = "a" * 64 + "@" + ".".join(labels)
        self.assertEqual(len(longest), 254)
        self.assertEqual(normalize_email(longest), longest)
        too_long = longest.replace("d" * 57, "d" * 58)
        self.assertFalse(normalize_email(too_long), "255 characters")
        self.assertFalse(normalize_email("x" * 300_000 + domain))

    def test_email_idn_domain_becomes_punycode(self):
        self.assertEqual(normalize_email("Qian@例子.中国"), "qian@xn--fsqu00a.xn--fiqs8s")
        self.assertEqual(
            normalize_email("qian@xn--fsqu00a.xn--fiqs8s"), "qian@xn--fsqu00a.xn--fiqs8s"
        )
        self.assertFalse(normalize_email("qian@例子..中国"))

    def test_email_accepted_by_odoo_mail(self):
        """Every accepted address survives Odoo's own recipient checks unchanged."""
        for raw in ("Qian@例子.中国", "li.na+news@example.com", "用户@example.com"):
            with self.subTest(raw=raw):
                address = normalize_email(raw)
                self.assertTrue(address)
                self.assertEqual(email_normalize(address), address)
                self.assertEqual(extract_rfc2822_addresses(address), [address])
        for raw in ('"li na"@example.com', "li(na)@example.com", "li\\na@example.com"):
            with self.subTest(raw=raw):
                self.assertFalse(normalize_email(raw))

    def test_phone_too_long_or_several_rejected(self):
        self.assertFalse(normalize_phone("1" * 300_000))
        self.assertFalse(normalize_phone("+86 138-0013-8000" + "-" * 30))
        for raw in (
            "13200132000;13200132001",
            "13200132000/13200132001",
            "13200132000、13200132001",
        ):
            with self.subTest(raw=raw):
                self.assertFalse(normalize_phone(raw))
                self.assertEqual(split_phones(raw), ["13200132000", "13200132001"])

    def _workbook_bytes(self, workbook):
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    def test_read_table_rejects_xls(self):
        ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
        for data, filename in ((ole2, "fans.xls"), (ole2, "fans.csv"), (b"a,b\n1,2\n", "a.XLS")):
            with self.subTest(filename=filename), self.assertRaises(TableError) as raised:
                read_table(data, filename)
            self.assertEqual(raised.exception.args[0], "xls")

    def test_read_table_names_sheets(self):
        workbook = openpyxl.Workbook()
        workbook.active.title = "粉丝"
        workbook.active.append(["姓名", "手机"])
        workbook.active.append(["刘洋", "13700137001"])
        workbook.create_sheet("备用").append(["姓名"])
        workbook.create_sheet("旧名单").append(["姓名"])
        table = read_table(self._workbook_bytes(workbook), "fans.xlsx")
        self.assertEqual(table.sheet_name, "粉丝")
        self.assertEqual(table.ignored_sheets, ("备用", "旧名单"))
        self.assertEqual(table.rows, [["刘洋", "13700137001"]])

    def test_read_table_keeps_uncomputed_formula(self):
        workbook = openpyxl.Workbook()
        workbook.active.append(["姓名", "手机"])
        workbook.active.append(["刘洋", "=1+1"])
        table = read_table(self._workbook_bytes(workbook), "fans.xlsx")
        cell = table.rows[0][1]
        self.assertIsInstance(cell, FormulaText)
        self.assertEqual(cell, "=1+1")
        self.assertNotIsInstance(table.rows[0][0], FormulaText)
