//! Renders the book's API reference (`book/src/api/`) from the OpenAPI document, so the
//! reference cannot drift from the contract (`tests/book.rs` compares the committed pages
//! with what this makes).

use serde_json::Value;

/// One generated page: its file name under `book/src/api/` and its Markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// File name, like `enterprises.md`.
    pub file: String,
    /// Markdown text.
    pub text: String,
}

const HEADER: &str = "<!-- Generated from api/openapi.json by `safegrade openapi --book book/src/api`. Do not edit. -->\n\n";

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("[`{name}`](schemas.md#{})", anchor(name));
    }
    if let Some(items) = schema.get("items") {
        return format!("array of {}", schema_name(items));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = schema.get(key).and_then(Value::as_array) {
            return list
                .iter()
                .map(schema_name)
                .collect::<Vec<_>>()
                .join(" or ");
        }
    }
    let ty = match schema.get("type") {
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        Some(Value::String(t)) => t.clone(),
        _ => "any".to_owned(),
    };
    match schema.get("format").and_then(Value::as_str) {
        Some(f) => format!("{ty} ({f})"),
        None => ty,
    }
}

/// The anchor mdBook gives a heading (lower case, spaces to `-`, other punctuation dropped).
pub fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c),
            _ => None,
        })
        .collect()
}

/// A tag's page title: the Chinese name its description ends with in parentheses
/// ("The enterprise ledger (企业台账)" → "企业台账接口"), else the tag.
fn tag_title(tag: &str, description: &str) -> String {
    description
        .trim_end()
        .strip_suffix(')')
        .and_then(|d| d.rsplit_once('('))
        .map(|(_, zh)| zh.trim())
        .filter(|zh| zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
        .map_or_else(|| tag.to_owned(), |zh| format!("{zh}接口"))
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The responses every protected operation shares; said once per page, at its head.
const COMMON: [&str; 4] = ["401", "403", "500", "503"];

/// The page's head section on the shared responses (from the first operation that has each).
fn common_responses(out: &mut String, ops: &[&Value]) {
    let mut rows = Vec::new();
    for status in COMMON {
        if let Some(r) = ops
            .iter()
            .find_map(|op| op.pointer(&format!("/responses/{status}")))
        {
            let codes: Vec<String> = r["x-problem-codes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|c| format!("[`{c}`](../errors.md#{c})"))
                .collect();
            rows.push(format!(
                "| {status} | {} | {} |\n",
                cell(s(r, "description")),
                codes.join("、")
            ));
        }
    }
    if rows.is_empty() {
        return;
    }
    out.push_str("## 通用响应\n\n本页需要令牌的操作都可能返回下列响应（problem+json），各操作不再重复列出：\n\n| 状态 Status | 说明 Description | 错误码 Codes |\n|---|---|---|\n");
    for row in rows {
        out.push_str(&row);
    }
    out.push('\n');
}

fn json_block(out: &mut String, label: &str, value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    out.push_str(&format!("{label}\n\n```json\n{text}\n```\n\n"));
}

fn operation(out: &mut String, path: &str, method: &str, op: &Value) {
    let id = s(op, "operationId");
    let title = s(op, "summary");
    // The Chinese title is the heading; the operationId stays the anchor.
    out.push_str(&format!(
        "## {} {{#{id}}}\n\n`{} {path}` · 操作名 operationId `{id}`\n\n",
        if title.is_empty() { id } else { title },
        method.to_uppercase()
    ));
    let description = s(op, "description");
    if !description.is_empty() {
        out.push_str(&format!("{description}\n\n"));
    }
    if let Some(params) = op.get("parameters").and_then(Value::as_array) {
        out.push_str("| 参数 Parameter | 位置 In | 必填 Required | 类型 Type | 说明 Description |\n|---|---|---|---|---|\n");
        for p in params {
            let required = if p.get("required").and_then(Value::as_bool).unwrap_or(false) {
                "是"
            } else {
                "否"
            };
            let ty = p.get("schema").map(schema_name).unwrap_or_default();
            out.push_str(&format!(
                "| `{}` | {} | {required} | {} | {} |\n",
                s(p, "name"),
                s(p, "in"),
                ty,
                cell(s(p, "description"))
            ));
        }
        out.push('\n');
    }
    if op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty())
    {
        out.push_str("认证 Authentication: `Authorization: Bearer <token>`（见[权限与审计](../access/index.md)）\n\n");
    } else {
        out.push_str("认证 Authentication: 不需要令牌（公开）\n\n");
    }
    if let Some(content) = op
        .pointer("/requestBody/content")
        .and_then(Value::as_object)
    {
        for (media, c) in content {
            let ty = c.get("schema").map(schema_name).unwrap_or_default();
            out.push_str(&format!("请求体 Request body: `{media}`, {ty}\n\n"));
            if let Some(example) = c.get("example") {
                json_block(out, "请求示例 Request example:", example);
            }
        }
    }
    out.push_str("| 状态 Status | 说明 Description | 内容 Content |\n|---|---|---|\n");
    let mut common = Vec::new();
    let mut examples = Vec::new();
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        for (status, r) in responses {
            if COMMON.contains(&status.as_str()) {
                common.push(status.as_str());
                continue;
            }
            let content = r
                .get("content")
                .and_then(Value::as_object)
                .map(|c| {
                    c.iter()
                        .map(|(media, m)| {
                            if let Some(example) = m.get("example") {
                                examples.push((status.clone(), example.clone()));
                            }
                            format!(
                                "`{media}` {}",
                                m.get("schema").map(schema_name).unwrap_or_default()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "| {status} | {} | {content} |\n",
                cell(s(r, "description"))
            ));
        }
    }
    out.push('\n');
    if !common.is_empty() {
        out.push_str(&format!(
            "另有[通用响应](#通用响应) {}。\n\n",
            common.join("、")
        ));
    }
    for (status, example) in examples {
        json_block(
            out,
            &format!("响应示例 Response example（{status}）:"),
            &example,
        );
    }
}

fn schemas_page(spec: &Value) -> String {
    let mut out = format!("{HEADER}# 数据结构 Schemas\n\n");
    let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return out;
    };
    for (name, schema) in schemas {
        out.push_str(&format!("## {name}\n\n"));
        let description = s(schema, "description");
        if !description.is_empty() {
            out.push_str(&format!("{}\n\n", description));
        }
        let closed = schema.get("enum").map(|v| (v, "取值 Values"));
        let open = schema
            .get("x-extensible-enum")
            .map(|v| (v, "取值（开放列表，今后可能增加新值）Values (open list)"));
        if let Some((Value::Array(values), label)) = closed.or(open) {
            let list: Vec<String> = values
                .iter()
                .filter_map(Value::as_str)
                .map(|v| format!("`{v}`"))
                .collect();
            out.push_str(&format!("{label}: {}\n\n", list.join(", ")));
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            out.push_str("| 字段 Field | 类型 Type | 必有 Required | 说明 Description |\n|---|---|---|---|\n");
            for (field, p) in props {
                let req = if required.contains(&field.as_str()) {
                    "是"
                } else {
                    "否"
                };
                out.push_str(&format!(
                    "| `{field}` | {} | {req} | {} |\n",
                    schema_name(p),
                    cell(s(p, "description"))
                ));
            }
            out.push('\n');
        }
    }
    out
}

/// Renders the reference: `index.md` (every operation by tag), one page per tag, and
/// `schemas.md`.
pub fn render(spec: &utoipa::openapi::OpenApi) -> Vec<Page> {
    let spec = serde_json::to_value(spec).unwrap_or_default();
    let tags: Vec<(String, String)> = spec
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .map(|t| (s(t, "name").to_owned(), s(t, "description").to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut index = format!(
        "{HEADER}# API 参考 API reference\n\n{} {}\n\n",
        s(&spec["info"], "title"),
        s(&spec["info"], "version")
    );
    index.push_str("本参考由 OpenAPI 规范自动生成；规范原文见 [`/api/openapi.json`](../integration/index.md#openapi-规范)。\n\n");
    index.push_str("每个操作的标题是中文，`operationId` 是它在页面中的锚点（如 `enterprises.html#create_enterprise`）；每个操作都附有取自自动化测试真实调用的请求和响应示例，规范中的 `example` 与此相同。\n\n");
    index.push_str("| 操作 Operation | operationId | 请求 Request |\n|---|---|---|\n");
    let mut pages = Vec::new();
    for (tag, description) in &tags {
        let mut page = format!(
            "{HEADER}# {}\n\n标签 tag `{tag}`：{description}\n\n",
            tag_title(tag, description)
        );
        let mut body = String::new();
        let mut ops = Vec::new();
        for (path, item) in &paths {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let op_tags: Vec<&str> = op
                    .get("tags")
                    .and_then(Value::as_array)
                    .map(|t| t.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if !op_tags.contains(&tag.as_str()) {
                    continue;
                }
                let id = s(op, "operationId");
                index.push_str(&format!(
                    "| [{}]({tag}.md#{id}) | `{id}` | `{} {path}` |\n",
                    cell(s(op, "summary")),
                    method.to_uppercase()
                ));
                operation(&mut body, path, method, op);
                ops.push(op);
            }
        }
        common_responses(&mut page, &ops);
        page.push_str(&body);
        pages.push(Page {
            file: format!("{tag}.md"),
            text: page,
        });
    }
    index.push_str("\n数据结构见 [Schemas](schemas.md)。\n");
    pages.insert(
        0,
        Page {
            file: "index.md".into(),
            text: index,
        },
    );
    pages.push(Page {
        file: "schemas.md".into(),
        text: schemas_page(&spec),
    });
    pages
}
