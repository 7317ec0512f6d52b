-- Version 6: a tenant's own templates, in the database so that every app
-- host serves the same ones, read when a mail or page is written (no
-- restart).  `mailproofctl template set` checks each before it is stored
-- (see src/template_check.c); locale '' serves every language.
CREATE TABLE tenant_templates (
    tenant_id  bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (name IN ('otp.txt', 'otp.html', 'otp.subject', 'link.txt',
               'link.html', 'link.subject', 'page.html', 'page.css', 'page-otp.html',
               'page-link.html', 'page-message.html')),
    locale     text NOT NULL CHECK (locale = '' OR length(locale) BETWEEN 2 AND 35),
    body       text NOT NULL CHECK (octet_length(body) BETWEEN 1 AND 65536),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name, locale)
);
