import { registry } from "@web/core/registry";

/*
 * Tour: a visitor subscribes on the public form and is asked to confirm by
 * email. Selectors only, so the page may be in Chinese or English.
 */
registry.category("web_tour.tours").add("freelancer_mass_mail_optin_subscribe", {
    url: "/fans/subscribe",
    steps: () => [
        {
            content: "Fill in the name",
            trigger: "#fan_optin_name",
            run: "edit 林晓",
        },
        {
            content: "Fill in the email",
            trigger: "#fan_optin_email",
            run: "edit tour.optin@example.com",
        },
        {
            content: "Subscribe",
            trigger: ".o_fan_optin form button[type='submit']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The page asks to confirm by email",
            trigger: ".o_fan_optin .o_fan_optin_check_inbox",
        },
    ],
});
