from odoo import models


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        """Keep a merged fan a fan, and refresh what derives from moved rows.

        Odoo moves identities, consent entries, interactions and tier history
        to the surviving contact in SQL, so the consent states and the score
        stored on it must be recomputed afterwards.
        """
        partners = self.env["res.partner"].browse(partner_ids).exists()
        is_fan = any(partners.mapped("is_fan"))
        result = super()._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
        survivor = partners.exists()
        if survivor and is_fan:
            survivor.is_fan = True
            survivor.invalidate_recordset()
            self.env.add_to_compute(survivor._fields["consent_email"], survivor)
            survivor._recompute_recordset(["consent_email", "consent_sms", "consent_wechat"])
            survivor._fan_recompute_scores()
        return result
