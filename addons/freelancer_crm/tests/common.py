import base64

from odoo.tests import TransactionCase


class FanCase(TransactionCase):
    """Base class: a clean tier setup and helpers to make fans and imports."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Partner = cls.env["res.partner"]
        cls.tier_core = cls.env.ref("freelancer_crm.fan_tier_core")
        cls.tier_active = cls.env.ref("freelancer_crm.fan_tier_active")
        cls.tier_regular = cls.env.ref("freelancer_crm.fan_tier_regular")
        cls.tier_potential = cls.env.ref("freelancer_crm.fan_tier_potential")
        cls.tier_dormant = cls.env.ref("freelancer_crm.fan_tier_dormant")

    @classmethod
    def _create_fan(cls, name, email=None, phone=None, **values):
        return cls.Partner.create(
            cls.Partner._fan_prepare_vals(name=name, email=email, phone=phone, **values)
        )

    def _import_file(self, content, filename="fans.csv", consent_basis="proof", proof="讲座签到表"):
        fan_import = self.env["fan.import"].create(
            {
                "file": base64.b64encode(content),
                "filename": filename,
                "consent_basis": consent_basis,
                "consent_proof": proof,
            }
        )
        fan_import.action_import()
        return fan_import
