import { registry } from "@web/core/registry";

// Create an Official Account and read the callback URL to copy into WeChat.
registry.category("web_tour.tours").add("freelancer_wechat_account", {
    url: "/odoo/action-freelancer_wechat.wechat_account_action",
    steps: () => [
        {
            content: "Create an Official Account",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".o_field_widget[name='name'] input",
            run: "edit Tour Notes",
        },
        {
            content: "Enter the AppID",
            trigger: ".o_field_widget[name='app_id'] input",
            run: "edit wxtour0000000001",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The callback URL of the saved account is shown",
            trigger: ".o_field_widget[name='callback_url']:contains('/wechat/callback/')",
        },
    ],
});

// Add a keyword reply from the Keyword Replies list.
registry.category("web_tour.tours").add("freelancer_wechat_reply_rule", {
    url: "/odoo/action-freelancer_wechat.wechat_reply_rule_action",
    steps: () => [
        {
            content: "Add a rule",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Choose the account",
            trigger: ".o_data_row .o_field_widget[name='account_id'] input",
            run: "edit Tour Rules Account",
        },
        {
            content: "Pick it from the list",
            trigger: ".o-autocomplete--dropdown-item:contains('Tour Rules Account')",
            run: "click",
        },
        {
            content: "Enter the keyword",
            trigger: ".o_data_row .o_field_widget[name='keyword'] input",
            run: "edit 课程表",
        },
        {
            content: "Enter the reply",
            trigger: ".o_data_row .o_field_widget[name='reply_text'] textarea",
            run: "edit Classes run on Tuesdays.",
        },
        {
            content: "Save the rule",
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            content: "The rule is listed",
            trigger: ".o_data_row:not(.o_selected_row) td:contains('课程表')",
        },
    ],
});

// Reply to a keyword with an image material chosen in the list.
registry.category("web_tour.tours").add("freelancer_wechat_reply_image", {
    url: "/odoo/action-freelancer_wechat.wechat_reply_rule_action",
    steps: () => [
        {
            content: "Add a rule",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Choose the account",
            trigger: ".o_data_row .o_field_widget[name='account_id'] input",
            run: "edit Tour Rules Account",
        },
        {
            content: "Pick it from the list",
            trigger: ".o-autocomplete--dropdown-item:contains('Tour Rules Account')",
            run: "click",
        },
        {
            content: "Enter the keyword",
            trigger: ".o_data_row .o_field_widget[name='keyword'] input",
            run: "edit 海报",
        },
        {
            content: "Open the reply types",
            trigger: ".o_data_row .o_field_widget[name='reply_type'] .o_select_menu_toggler",
            run: "click",
        },
        {
            content: "Reply with an image",
            trigger: ".o_select_menu_menu .o_select_menu_item:contains('Image')",
            run: "click",
        },
        {
            content: "Search the image material",
            trigger: ".o_data_row .o_field_widget[name='material_id'] input",
            run: "edit poster",
        },
        {
            content: "Only images are offered",
            trigger:
                ".o-autocomplete--dropdown-menu:has(a:contains('poster.jpg'))" +
                ":not(:has(a:contains('poster.mp3')))",
        },
        {
            content: "Pick the image",
            trigger: ".o-autocomplete--dropdown-item:contains('poster.jpg')",
            run: "click",
        },
        {
            content: "Save the rule",
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            content: "The rule is listed with its image",
            trigger: ".o_data_row:not(.o_selected_row) td:contains('poster.jpg')",
        },
    ],
});

// Open the message log and keep only received messages.
registry.category("web_tour.tours").add("freelancer_wechat_message_log", {
    url: "/odoo/action-freelancer_wechat.wechat_message_action",
    steps: () => [
        {
            content: "The log lists the sent reply",
            trigger: ".o_data_row td:contains('Tour reply text')",
        },
        {
            content: "Open the filters",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Keep received messages",
            trigger: ".o_filter_menu .o-dropdown-item:contains('Received')",
            run: "click",
        },
        {
            content: "The received message stays",
            trigger: ".o_data_row td:contains('Tour question text')",
        },
        {
            content: "The sent reply is filtered out",
            trigger: ".o_list_view:not(:has(td:contains('Tour reply text')))",
        },
    ],
});
