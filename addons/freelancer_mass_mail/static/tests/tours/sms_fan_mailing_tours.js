import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

/*
 * Tour: create an email mailing for a fan segment and read its pre-send
 * checklist. The test creates the segment "Tour Fan Segment".
 */
registry.category("web_tour.tours").add("freelancer_mass_mail_fan_segment_checklist", {
    url: "/odoo/action-mass_mailing.mailing_mailing_action_mail/new",
    steps: () => [
        {
            content: "Pick the basic theme",
            trigger: ".o_mailing_template_preview_wrapper [data-name='basic']",
            run: "click",
        },
        {
            content: "Fill in the subject",
            trigger: "#subject_0",
            run: "edit Tour fan mailing",
        },
        {
            content: "Choose the fan segment",
            trigger: "#fan_segment_id_0",
            run: "edit Tour Fan Segment",
        },
        {
            content: "Pick the segment in the dropdown",
            trigger: ".o_input_dropdown a:contains(Tour Fan Segment)",
            run: "click",
        },
        {
            content: "The recipients switch to Contacts",
            trigger: ".o_field_widget[name='mailing_model_id']:contains(Contact)",
        },
        {
            content: "The pre-send checklist is shown above the form",
            trigger: "div[name='fan_checklist'] .o_field_widget[name='fan_checklist_html'] li, div[name='fan_checklist'] .o_field_widget[name='fan_checklist_html'] p",
        },
        ...stepUtils.saveForm(),
        {
            content: "The checklist is still shown after saving",
            trigger: "div[name='fan_checklist'] .o_field_widget[name='fan_checklist_html']:not(:empty)",
        },
    ],
});

/*
 * Tour: the unsubscribe link shows a confirmation page, and only the click on
 * its button unsubscribes. Selectors do not depend on the page language.
 */
registry.category("web_tour.tours").add("freelancer_mass_mail_unsubscribe_confirm", {
    steps: () => [
        {
            content: "The confirmation page is shown, nothing is unsubscribed yet",
            trigger: "form[action='/mailing/confirm_unsubscribe'] button[type='submit']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The confirmation links to the fan preference page",
            trigger: "#info_state a[href*='/fan_preferences']",
        },
    ],
});

/*
 * Tour: a fan switches SMS off on the preference page.
 */
registry.category("web_tour.tours").add("freelancer_mass_mail_preferences_sms_off", {
    steps: () => [
        {
            content: "SMS is switched on",
            trigger: "input#consent_sms:checked",
            run: "click",
        },
        {
            content: "SMS is now switched off",
            trigger: "input#consent_sms:not(:checked)",
        },
        {
            content: "Save the preferences",
            trigger: ".o_fan_preferences form button[type='submit']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The page confirms the change",
            trigger: ".o_fan_preferences .alert-success",
        },
        {
            content: "SMS stays switched off after saving",
            trigger: "input#consent_sms:not(:checked)",
        },
    ],
});
