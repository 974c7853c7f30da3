import secrets

from odoo import fields, models

from ..tools.sms_provider_aliyun import SmsApiAliyun
from ..tools.sms_provider_tencent import SmsApiTencent

FAN_SMS_PROVIDERS = [
    ("odoo", "Odoo Default"),
    ("aliyun", "Aliyun SMS"),
    ("tencent", "Tencent Cloud SMS"),
]
FAN_SMS_API_CLASSES = {"aliyun": SmsApiAliyun, "tencent": SmsApiTencent}
# Company fields each gateway sends with every request. The Aliyun template
# variable and the region and endpoint of both have defaults.
FAN_SMS_REQUIRED_FIELDS = {
    "aliyun": (
        "fan_sms_key_id",
        "fan_sms_key_secret",
        "fan_sms_sign_name",
        "fan_sms_template_code",
    ),
    "tencent": (
        "fan_sms_key_id",
        "fan_sms_key_secret",
        "fan_sms_sign_name",
        "fan_sms_template_code",
        "fan_sms_app_id",
    ),
}


def _default_callback_token(_model=None):
    return secrets.token_urlsafe(24)


class ResCompany(models.Model):
    _inherit = "res.company"

    fan_sms_provider = fields.Selection(
        FAN_SMS_PROVIDERS,
        string="SMS Gateway",
        default="odoo",
        required=True,
        help="Service that sends this company's SMS. Odoo Default keeps the provider "
        "set up in Odoo (IAP, or Twilio when installed).",
    )
    fan_sms_key_id = fields.Char(
        string="Access Key ID",
        groups="base.group_system",
        help="Aliyun AccessKey ID, or Tencent Cloud SecretId.",
    )
    fan_sms_key_secret = fields.Char(
        string="Access Key Secret",
        groups="base.group_system",
        help="Aliyun AccessKey secret, or Tencent Cloud SecretKey.",
    )
    fan_sms_sign_name = fields.Char(
        string="Sign Name",
        help="SMS signature approved by the provider, without 【】.",
    )
    fan_sms_template_code = fields.Char(
        string="Template Code",
        help="Approved template: Aliyun template code (SMS_...) or Tencent Cloud "
        "template ID. The template must consist of one variable that receives the "
        "SMS body.",
    )
    fan_sms_template_param = fields.Char(
        string="Template Variable",
        default="content",
        help="Aliyun only: name of the template variable that receives the SMS body.",
    )
    fan_sms_app_id = fields.Char(
        string="SMS SDK App ID",
        help="Tencent Cloud only: SmsSdkAppId of the SMS application.",
    )
    fan_sms_region = fields.Char(
        string="Region",
        help="API region: cn-hangzhou for Aliyun, ap-guangzhou for Tencent Cloud when empty.",
    )
    fan_sms_endpoint = fields.Char(
        string="Endpoint URL",
        help="Base URL of the provider API. Empty means https://dysmsapi.aliyuncs.com "
        "for Aliyun and https://sms.tencentcloudapi.com for Tencent Cloud.",
    )
    fan_sms_callback_token = fields.Char(
        string="Callback Token",
        groups="base.group_system",
        copy=False,
        default=_default_callback_token,
        help="Secret part of the delivery report and reply URLs given to the provider.",
    )

    def write(self, vals):
        result = super().write(vals)
        if vals.get("fan_sms_provider") in FAN_SMS_API_CLASSES:
            # Companies that existed before the module was installed have no token yet.
            for company in self.sudo().filtered(lambda c: not c.fan_sms_callback_token):
                company.fan_sms_callback_token = _default_callback_token()
        return result

    def _fan_sms_missing_config(self):
        """Return the translated labels of the settings the company's gateway needs and lacks."""
        self.ensure_one()
        company_sudo = self.sudo()
        return [
            self._fields[name]._description_string(self.env)
            for name in FAN_SMS_REQUIRED_FIELDS.get(company_sudo.fan_sms_provider, ())
            if not (company_sudo[name] or "").strip()
        ]

    def _fan_sms_provider_label(self):
        """Return the translated name of the company's SMS gateway."""
        self.ensure_one()
        labels = dict(self._fields["fan_sms_provider"]._description_selection(self.env))
        return labels.get(self.fan_sms_provider, self.fan_sms_provider)

    def _get_sms_api_class(self):
        self.ensure_one()
        api_class = FAN_SMS_API_CLASSES.get(self.fan_sms_provider)
        return api_class or super()._get_sms_api_class()

    def action_fan_sms_regenerate_token(self):
        """Replace the callback token: the provider's callback URLs must be updated after."""
        self.sudo().fan_sms_callback_token = _default_callback_token()
