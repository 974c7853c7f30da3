import io

import openpyxl

from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tests import tagged

from .common import FanCase

CSV_TEXT = (
    "姓名,手机,邮箱,城市,标签\n"
    "王芳,138 0013 8000, Wang.Fang@Example.COM ,上海,手作\n"
    "李娜,+86-13900139000,,北京,\n"
    "王芳(重复),86 13800138000,,,\n"
    '张伟,,zhang.wei@example.com,杭州,"手作,写作"\n'
    "坏号码,12345,,,\n"
    "坏邮箱,,not-an-email,,\n"
    "双at,,bad@@mail,,\n"
)


@tagged("post_install", "-at_install")
class TestImport(FanCase):
    def _lines(self, fan_import, status):
        return fan_import.line_ids.filtered(lambda line: line.status == status)

    def test_import_utf8_bom_with_duplicates_and_errors(self):
        fan_import = self._import_file(CSV_TEXT.encode("utf-8-sig"))
        self.assertEqual(fan_import.state, "done")
        self.assertEqual(fan_import.encoding, "utf-8-sig")
        self.assertEqual(fan_import.created_count, 3)
        self.assertEqual(fan_import.duplicate_count, 1)
        self.assertEqual(fan_import.error_count, 3)
        self.assertFalse(self.Partner.search([("email", "ilike", "@mail")]))
        wang = self.Partner.search([("fan_mobile", "=", "+8613800138000")])
        self.assertEqual(len(wang), 1)
        self.assertEqual(wang.name, "王芳")
        self.assertEqual(wang.email, "wang.fang@example.com")
        self.assertEqual(wang.phone, "+8613800138000")
        self.assertEqual(wang.city, "上海")
        self.assertEqual(wang.category_id.mapped("name"), ["手作"])
        self.assertTrue(wang.is_fan)
        self.assertEqual(wang.fan_source, "import")
        self.assertEqual(self._lines(fan_import, "duplicate").row, 4)
        self.assertIn("2", self._lines(fan_import, "duplicate").message)

    def test_import_other_header_names_and_ignored_columns(self):
        content = (
            "姓名,手机号码,电子邮箱,备注\n郑浩然,0086 136 0013 6003,Zheng.HR@example.com,老客户\n"
        )
        fan_import = self._import_file(content.encode("gbk"))
        zheng = self.Partner.search([("email_normalized", "=", "zheng.hr@example.com")])
        self.assertEqual(zheng.phone, "+8613600136003")
        self.assertEqual(fan_import.ignored_columns, "备注")

    def test_header_only_file_rejected(self):
        with self.assertRaisesRegex(UserError, "no rows"):
            self._import_file("姓名,手机,邮箱\n".encode())

    def test_landline_tags_nul_and_long_names(self):
        content = (
            "姓名,电话,邮箱,标签\n"
            "座机用户,010-12345678,landline@example.com,读者、陶艺\n"
            "空\x00字节,,nul@example.com,\n" + "长" * 300 + ",,long@example.com,\n"
        )
        fan_import = self._import_file(content.encode())
        landline = self.Partner.search([("email_normalized", "=", "landline@example.com")])
        self.assertEqual(landline.phone, "+861012345678")
        self.assertEqual(landline.consent_email, "granted")
        self.assertEqual(landline.consent_sms, "none", "a landline cannot receive SMS")
        self.assertEqual(sorted(landline.category_id.mapped("name")), ["读者", "陶艺"])
        nul = self.Partner.search([("email_normalized", "=", "nul@example.com")])
        self.assertEqual(nul.name, "空字节")
        self.assertFalse(self.Partner.search([("email_normalized", "=", "long@example.com")]))
        line = fan_import.line_ids.filtered(lambda line: line.row == 4)
        self.assertEqual(line.status, "error")
        self.assertIn("128", line.message)

    def test_imported_fans_get_a_tier_at_once(self):
        self._import_file(CSV_TEXT.encode())
        zhang = self.Partner.search([("email_normalized", "=", "zhang.wei@example.com")])
        self.assertEqual(zhang.fan_tier_id, self.tier_potential)

    def test_import_gbk(self):
        fan_import = self._import_file(CSV_TEXT.encode("gbk"))
        self.assertEqual(fan_import.encoding, "gb18030")
        self.assertTrue(
            self.Partner.search([("name", "=", "李娜"), ("fan_mobile", "=", "+8613900139000")])
        )

    def test_import_records_consent_with_proof(self):
        fan_import = self._import_file(CSV_TEXT.encode("utf-8-sig"))
        wang = self.Partner.search([("fan_mobile", "=", "+8613800138000")])
        self.assertEqual(wang.consent_email, "granted")
        self.assertEqual(wang.consent_sms, "granted")
        entry = wang.fan_consent_ids.filtered(lambda e: e.channel == "email")
        self.assertEqual(entry.source, "import")
        self.assertEqual(entry.proof, "讲座签到表")
        self.assertEqual(entry.res_model, "fan.import")
        self.assertEqual(entry.res_id, fan_import.id)
        self.assertEqual(entry.address, "wang.fang@example.com")
        self.assertTrue(entry.attachment_id)

    def test_import_without_proof_is_pending(self):
        self._import_file(CSV_TEXT.encode(), consent_basis="none", proof=False)
        zhang = self.Partner.search([("email_normalized", "=", "zhang.wei@example.com")])
        self.assertEqual(zhang.consent_email, "pending")
        segment = self.env["fan.segment"].create({"name": "邮件", "consent_channel": "email"})
        self.assertNotIn(zhang, self.Partner.search(segment._get_partner_domain()))

    def test_import_matches_existing_contacts(self):
        existing = self._create_fan("王芳", email="wang.fang@example.com")
        fan_import = self._import_file(CSV_TEXT.encode())
        self.assertEqual(fan_import.updated_count, 1)
        self.assertEqual(fan_import.created_count, 2)
        self.assertEqual(existing.phone, "+8613800138000")
        self.assertEqual(existing.name, "王芳")
        self.assertEqual(
            self.Partner.search_count([("email_normalized", "=", "wang.fang@example.com")]), 1
        )

    def test_import_ambiguous_goes_to_review(self):
        by_mail = self._create_fan("邮箱的人", email="wang.fang@example.com")
        by_phone = self._create_fan("手机的人", phone="13800138000")
        fan_import = self._import_file(CSV_TEXT.encode())
        review = self._lines(fan_import, "review")
        self.assertEqual(len(review), 1)
        self.assertFalse(review.partner_id)
        self.assertEqual(review.candidate_partner_ids, by_mail | by_phone)
        self.assertEqual(
            (review.name, review.email, review.phone),
            ("王芳", "wang.fang@example.com", "+8613800138000"),
        )
        self.assertFalse(by_mail.fan_consent_ids)
        self.assertFalse(by_phone.fan_consent_ids)
        self.assertIn(review, self.env["fan.import.line"].search([("status", "=", "review")]))

    def test_review_link_to_chosen_contact(self):
        by_mail = self._create_fan("邮箱的人", email="wang.fang@example.com")
        by_phone = self._create_fan("手机的人", phone="13800138000")
        fan_import = self._import_file(CSV_TEXT.encode())
        review = self._lines(fan_import, "review")
        by_phone.with_context(fan_import_line_id=review.id).action_fan_review_link()
        self.assertEqual(review.status, "updated")
        self.assertEqual(review.partner_id, by_phone)
        self.assertEqual(by_phone.city, "上海")
        self.assertEqual(by_phone.consent_sms, "granted")
        self.assertEqual(fan_import.review_count, 0)
        self.assertEqual(fan_import.updated_count, 1)
        with self.assertRaises(UserError):
            by_mail.with_context(fan_import_line_id=review.id).action_fan_review_link()

    def test_review_create_new_contact(self):
        self._create_fan("邮箱的人", email="wang.fang@example.com")
        self._create_fan("手机的人", phone="13800138000")
        fan_import = self._import_file(CSV_TEXT.encode())
        review = self._lines(fan_import, "review")
        created_before = fan_import.created_count
        review.action_review_create()
        self.assertEqual(review.status, "created")
        self.assertEqual(review.partner_id.name, "王芳")
        self.assertEqual(fan_import.created_count, created_before + 1)
        with self.assertRaises(UserError):
            review.action_review_create()

    def test_review_link_refuses_other_contact(self):
        self._create_fan("邮箱的人", email="wang.fang@example.com")
        self._create_fan("手机的人", phone="13800138000")
        stranger = self._create_fan("无关的人")
        review = self._lines(self._import_file(CSV_TEXT.encode()), "review")
        with self.assertRaises(UserError):
            stranger.with_context(fan_import_line_id=review.id).action_fan_review_link()
        self.assertEqual(review.status, "review")

    def test_import_never_overrides_opt_out(self):
        existing = self._create_fan("张伟", email="zhang.wei@example.com")
        existing._fan_record_consent("email", "withdraw", "unsubscribe_link")
        fan_import = self._import_file(CSV_TEXT.encode())
        self.assertEqual(existing.consent_email, "withdrawn")
        line = fan_import.line_ids.filtered(lambda line: line.partner_id == existing)
        self.assertIn("opted out", line.message)

    def test_second_import_of_same_file_adds_nobody(self):
        self._import_file(CSV_TEXT.encode())
        count = self.Partner.search_count([("is_fan", "=", True)])
        second = self._import_file(CSV_TEXT.encode())
        self.assertEqual(second.created_count, 0)
        self.assertEqual(second.updated_count, 3)
        self.assertEqual(self.Partner.search_count([("is_fan", "=", True)]), count)

    def test_import_xlsx(self):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(["Name", "Mobile", "Email"])
        sheet.append(["刘洋", 13700137001, "Liu.Yang@Example.com"])
        buffer = io.BytesIO()
        workbook.save(buffer)
        fan_import = self._import_file(buffer.getvalue(), filename="fans.xlsx")
        self.assertEqual(fan_import.created_count, 1)
        liu = self.Partner.search([("email_normalized", "=", "liu.yang@example.com")])
        self.assertEqual(liu.phone, "+8613700137001")

    def test_bad_files_raise_clear_errors(self):
        with self.assertRaisesRegex(UserError, "email or mobile column"):
            self._import_file("城市,备注\n上海,x\n".encode())
        with self.assertRaisesRegex(UserError, "no rows"):
            self._import_file(b"\n \n")
        with self.assertRaisesRegex(UserError, "UTF-8"):
            self._import_file(b"\x81\x30\x81\xff\xfe\xfd,\x00\xff")
        with self.assertRaisesRegex(UserError, "proof"):
            self._import_file(CSV_TEXT.encode(), proof="  ")

    def test_import_twice_same_record_refused(self):
        fan_import = self._import_file(CSV_TEXT.encode())
        with self.assertRaises(UserError):
            fan_import.action_import()

    def _workbook_bytes(self, *sheets):
        workbook = openpyxl.Workbook()
        workbook.remove(workbook.active)
        for title, rows in sheets:
            sheet = workbook.create_sheet(title)
            for row in rows:
                sheet.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    def _line(self, fan_import, row):
        return fan_import.line_ids.filtered(lambda line: line.row == row)

    def test_other_name_on_matched_phone_goes_to_review(self):
        zhang = self._create_fan("张三", phone="13800138000")
        fan_import = self._import_file(
            "姓名,手机,邮箱\n李雷,13800138000,lilei@example.com\n".encode()
        )
        line = self._line(fan_import, 2)
        self.assertEqual(line.status, "review")
        self.assertEqual(line.candidate_partner_ids, zhang)
        self.assertEqual((line.name, line.email), ("李雷", "lilei@example.com"))
        self.assertIn("李雷", line.message)
        self.assertIn("张三", line.message)
        self.assertFalse(zhang.email)
        self.assertFalse(zhang.fan_consent_ids)
        self.assertFalse(self.Partner.search([("email_normalized", "=", "lilei@example.com")]))
        self.assertEqual(fan_import.review_count, 1)

    def test_same_name_other_spacing_is_merged(self):
        li = self._create_fan("Li Lei", phone="13800138000")
        fan_import = self._import_file(
            b"name,mobile,email\n li  lei ,13800138000,lilei@example.com\n"
        )
        self.assertEqual(self._line(fan_import, 2).status, "updated")
        self.assertEqual(li.email, "lilei@example.com")

    def test_nameless_contact_is_merged(self):
        nameless = self._create_fan(None, email="wang.fang@example.com")
        self.assertEqual(nameless.name, "wang.fang@example.com")
        fan_import = self._import_file(CSV_TEXT.encode())
        self.assertEqual(self._line(fan_import, 2).status, "updated")
        self.assertEqual(self._line(fan_import, 2).partner_id, nameless)

    def test_other_name_inside_file_goes_to_review(self):
        content = "姓名,手机,邮箱\n张三,13800138000,\n李雷,13800138000,lilei@example.com\n"
        fan_import = self._import_file(content.encode())
        zhang = self._line(fan_import, 2).partner_id
        self.assertEqual(zhang.name, "张三")
        line = self._line(fan_import, 3)
        self.assertEqual(line.status, "review")
        self.assertEqual(line.candidate_partner_ids, zhang)
        self.assertFalse(zhang.email)

    def test_duplicate_row_keeps_extra_identities(self):
        content = (
            "姓名,手机,邮箱\n"
            "王芳,13800138000,wang@example.com\n"
            "王芳,13800138000,wang.work@example.com\n"
            "王芳,13900139000;13900139001,wang@example.com\n"
        )
        fan_import = self._import_file(content.encode())
        wang = self._line(fan_import, 2).partner_id
        self.assertEqual(fan_import.duplicate_count, 2)
        self.assertEqual(wang.email, "wang@example.com")
        self.assertEqual(wang.phone, "+8613800138000")
        identities = wang.fan_identity_ids
        emails = identities.filtered(lambda identity: identity.channel == "email")
        mobiles = identities.filtered(lambda identity: identity.channel == "mobile")
        self.assertEqual(
            sorted(emails.mapped("value")), ["wang.work@example.com", "wang@example.com"]
        )
        self.assertEqual(
            sorted(mobiles.mapped("value")), ["+8613800138000", "+8613900139000", "+8613900139001"]
        )
        self.assertIn("2", self._line(fan_import, 3).message)
        self.assertIn("wang.work@example.com", self._line(fan_import, 3).message)
        self.assertIn("+8613900139000", self._line(fan_import, 4).message)
        self.assertIn("+8613900139001", self._line(fan_import, 4).message)

    def test_duplicate_row_names_dropped_landline(self):
        content = (
            "姓名,电话,邮箱\n"
            "王芳,13800138000,wang@example.com\n"
            "王芳,010-12345678,wang@example.com\n"
        )
        fan_import = self._import_file(content.encode())
        line = self._line(fan_import, 3)
        self.assertEqual(line.status, "duplicate")
        self.assertIn("+861012345678", line.message)
        self.assertEqual(self._line(fan_import, 2).partner_id.phone, "+8613800138000")

    def test_cell_with_several_phones(self):
        fan_import = self._import_file("姓名,手机\n赵六,13200132000;13200132001\n".encode())
        line = self._line(fan_import, 2)
        self.assertEqual(line.status, "created")
        self.assertEqual(line.partner_id.phone, "+8613200132000")
        self.assertIn("+8613200132001", line.message)
        self.assertEqual(
            sorted(line.partner_id.fan_identity_ids.mapped("value")),
            ["+8613200132000", "+8613200132001"],
        )

    def test_cell_with_landline_and_mobile_keeps_mobile(self):
        fan_import = self._import_file("姓名,电话\n赵六,010-12345678/13200132000\n".encode())
        line = self._line(fan_import, 2)
        self.assertEqual(line.partner_id.phone, "+8613200132000")
        self.assertEqual(line.partner_id.consent_sms, "granted")
        self.assertIn("+861012345678", line.message)

    def test_landline_is_no_mobile_identity(self):
        content = "姓名,电话,邮箱\n座机用户,(010)12345678,landline@example.com\n"
        self._import_file(content.encode())
        partner = self.Partner.search([("email_normalized", "=", "landline@example.com")])
        self.assertEqual(partner.phone, "+861012345678")
        self.assertFalse(partner.fan_mobile)
        self.assertEqual(partner.fan_identity_ids.mapped("channel"), ["email"])
        self.assertEqual(partner.consent_sms, "none")
        sms_domain = self.Partner._fan_consent_domain("sms")
        partner._fan_record_consent("sms", "grant", "manual")
        self.assertFalse(self.Partner.search(sms_domain & Domain("id", "=", partner.id)))
        with self.assertRaisesRegex(ValidationError, "landline"):
            self.env["fan.identity"].create(
                {"partner_id": partner.id, "channel": "mobile", "value": "(010)12345678"}
            )

    def test_landline_only_row_matched_again(self):
        content = "姓名,电话\n座机用户,(010)12345678\n".encode()
        first = self._import_file(content)
        second = self._import_file(content)
        self.assertEqual(first.created_count, 1)
        self.assertEqual(second.created_count, 0)
        self.assertEqual(self._line(second, 2).partner_id, self._line(first, 2).partner_id)

    def test_idn_email_imported_as_punycode(self):
        fan_import = self._import_file("姓名,邮箱\n钱七,qian@例子.中国\n".encode())
        partner = self._line(fan_import, 2).partner_id
        self.assertEqual(partner.email, "qian@xn--fsqu00a.xn--fiqs8s")
        self.assertEqual(partner.email_normalized, "qian@xn--fsqu00a.xn--fiqs8s")

    def test_huge_cells_give_row_errors(self):
        huge_email = "x" * 300_000 + "@example.com"
        content = (
            "姓名,手机,邮箱,微博,城市\n"
            f"大邮箱,,{huge_email},,\n"
            f"大号码,{'1' * 300_000},,,\n"
            f"大微博,13800138000,,{'w' * 300},{'城' * 300}\n"
            "正常,,ok@example.com,,\n"
        )
        fan_import = self._import_file(content.encode())
        for row in (2, 3):
            with self.subTest(row=row):
                line = self._line(fan_import, row)
                self.assertEqual(line.status, "error")
                self.assertLess(len(line.message), 200)
                self.assertLess(len(line.value), 100)
        self.assertIn("invalid email", self._line(fan_import, 2).message)
        self.assertIn("invalid phone", self._line(fan_import, 3).message)
        weibo_line = self._line(fan_import, 4)
        self.assertEqual(weibo_line.status, "created")
        self.assertIn("Weibo", weibo_line.message)
        self.assertFalse(weibo_line.partner_id.city)
        self.assertNotIn("weibo", weibo_line.partner_id.fan_identity_ids.mapped("channel"))
        self.assertEqual(self._line(fan_import, 5).status, "created")

    def test_xls_file_rejected_with_advice(self):
        ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
        with self.assertRaisesRegex(UserError, r"\.xls\).*\.xlsx"):
            self._import_file(ole2, filename="fans.xls")

    def test_xlsx_names_sheet_read(self):
        data = self._workbook_bytes(
            ("三月签到", [["姓名", "手机"], ["刘洋", "13700137001"]]),
            ("四月签到", [["姓名", "手机"], ["陈晨", "13700137002"]]),
        )
        fan_import = self._import_file(data, filename="fans.xlsx")
        self.assertEqual(fan_import.sheet_name, "三月签到")
        self.assertEqual(fan_import.ignored_sheets, "四月签到")
        self.assertEqual(fan_import.created_count, 1)

    def test_xlsx_formula_gets_row_message(self):
        data = self._workbook_bytes(
            (
                "名单",
                [
                    ["姓名", "手机", "邮箱"],
                    ["刘洋", "=1+1", "liu@example.com"],
                    ["陈晨", "=A2", ""],
                ],
            )
        )
        fan_import = self._import_file(data, filename="fans.xlsx")
        kept = self._line(fan_import, 2)
        self.assertEqual(kept.status, "created")
        self.assertIn("=1+1", kept.message)
        self.assertIn("手机", kept.message)
        self.assertFalse(kept.partner_id.phone)
        failed = self._line(fan_import, 3)
        self.assertEqual(failed.status, "error")
        self.assertIn("=A2", failed.message)
