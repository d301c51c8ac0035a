/*
 * GET /app: the demo in a browser. A static HTML page whose buttons call
 * the JSON routes with fetch() and show what they answer.
 *
 * Serving the page never loads or commits a session, so it sets no cookie.
 * Its script never handles the session cookie either: the cookie is
 * HttpOnly, invisible to document.cookie (the page shows that), and the
 * browser attaches it to each same-origin fetch() by itself. No external
 * resources: the page works offline and on any host name the server has.
 */
#include "demo.h"

/* Under the 4095 bytes that C11 promises for a string literal. */
static const char PAGE[] =
    "<!doctype html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width\">\n"
    "<title>csession demo</title>\n"
    "<style>body{font-family:sans-serif;max-width:42em;margin:2em auto;padding:0 1em}"
    "pre{background:#eee;padding:.5em;white-space:pre-wrap}button{margin:.2em}</style>\n"
    "</head>\n"
    "<body>\n"
    "<h1>csession demo</h1>\n"
    "<p>Each button calls the server; the browser keeps the session cookie and "
    "sends it back. The cookie is HttpOnly: this page cannot read it.</p>\n"
    "<p><button id=\"state\">Show state</button>\n"
    "<button id=\"do_something\">Do something</button>\n"
    "<button id=\"count\">Protected count</button></p>\n"
    "<p><label>User <input id=\"user\" value=\"alice\" maxlength=\"128\"></label>\n"
    "<button id=\"login\">Log in</button>\n"
    "<button id=\"logout\">Log out</button></p>\n"
    "<h2>Answer</h2>\n"
    "<pre id=\"out\" data-answers=\"0\">(press a button)</pre>\n"
    "<h2>What document.cookie shows</h2>\n"
    "<pre id=\"jar\"></pre>\n"
    "<script>\n"
    "\"use strict\";\n"
    "const $ = id => document.getElementById(id);\n"
    "let answers = 0;\n"
    "function showJar() { $(\"jar\").textContent = document.cookie || \"(nothing)\"; }\n"
    "/* Shows \"METHOD PATH STATUS\" and the body; data-answers counts the answers\n"
    "   shown, so that a script driving the page can wait for the next one. */\n"
    "async function call(method, path, body) {\n"
    "  const init = { method: method, headers: {} };\n"
    "  if (body !== undefined) {\n"
    "    init.headers[\"Content-Type\"] = \"application/json\";\n"
    "    init.body = JSON.stringify(body);\n"
    "  }\n"
    "  let text;\n"
    "  try {\n"
    "    const r = await fetch(path, init);\n"
    "    text = method + \" \" + path + \" \" + r.status + \"\\n\" + await r.text();\n"
    "  } catch (e) {\n"
    "    text = method + \" \" + path + \" failed: \" + e;\n"
    "  }\n"
    "  $(\"out\").textContent = text;\n"
    "  showJar();\n"
    "  $(\"out\").dataset.answers = String(++answers);\n"
    "}\n"
    "$(\"state\").onclick = () => call(\"GET\", \"/\");\n"
    "$(\"do_something\").onclick = () => call(\"POST\", \"/do_something\");\n"
    "$(\"count\").onclick = () => call(\"GET\", \"/protected/count\");\n"
    "$(\"login\").onclick = () => call(\"POST\", \"/login\", { user_id: $(\"user\").value });\n"
    "$(\"logout\").onclick = () => call(\"POST\", \"/logout\");\n"
    "showJar();\n"
    "</script>\n"
    "</body>\n"
    "</html>\n";

void app_page_reply(reply *r)
{
    text_free(&r->body);
    *r = (reply){ .status = 200, .content_type = "text/html; charset=utf-8" };
    r->body.ptr = (char *)PAGE; /* borrowed, read only */
    r->body.len = sizeof PAGE - 1;
}
