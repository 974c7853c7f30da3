from odoo.exceptions import UserError
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
        existing = self._create_fan("老客户", email="wang.fang@example.com")
        fan_import = self._import_file(CSV_TEXT.encode())
        self.assertEqual(fan_import.updated_count, 1)
        self.assertEqual(fan_import.created_count, 2)
        self.assertEqual(existing.phone, "+8613800138000")
        self.assertEqual(existing.name, "老客户")
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
        existing = self._create_fan("退订者", email="zhang.wei@example.com")
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
        import io  # noqa: PLC0415

        import openpyxl  # noqa: PLC0415

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
