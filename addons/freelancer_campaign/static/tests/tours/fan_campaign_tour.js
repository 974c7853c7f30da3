import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("freelancer_campaign_compose", {
    url: "/odoo/action-freelancer_campaign.fan_campaign_action",
    steps: () => [
        {
            content: "Create a campaign",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".o_field_widget[name='name'] input",
            run: "edit Tour Campaign",
        },
        {
            content: "Choose the segment",
            trigger: ".o_field_widget[name='segment_id'] input",
            run: "edit Tour Segment",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('Tour Segment')",
            run: "click",
        },
        {
            content: "Email only for this one",
            trigger: ".o_field_widget[name='use_wechat'] input",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='use_sms'] input",
            run: "click",
        },
        {
            content: "Write the subject",
            trigger: ".o_field_widget[name='email_subject'] input",
            run: "edit Winter workshop",
        },
        {
            content: "Set the sender",
            trigger: ".o_field_widget[name='email_from'] input",
            run: "edit Studio <studio@example.com>",
        },
        {
            content: "Write the email",
            trigger: ".o_field_widget[name='email_body'] .odoo-editor-editable",
            run: "editor The winter workshop is open.",
        },
        {
            content: "Plan the channels",
            trigger: "button[name='action_plan']",
            run: "click",
        },
        {
            content: "The plan reaches the fan by email",
            trigger: ".o_notebook .nav-link:contains('Plan')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='recipient_ids'] td:contains('Tour Campaign Fan')",
        },
        {
            content: "Send",
            trigger: "button[name='action_send']",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The campaign is sending until its email leaves the mail queue",
            trigger: ".o_statusbar_status button[data-value='sending'].o_arrow_button_current",
        },
    ],
});
