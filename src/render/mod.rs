//! Stage 4: outputs read off the plan — the unit file, the explain report and the D-Bus
//! property list `ociunit run` sends (`dbus`).

pub mod dbus;
pub mod escape;
pub mod explain;
pub mod systemd_reading;
pub mod unit;

use std::sync::OnceLock;

use minijinja::Environment;

/// The templates, compiled into the binary so it needs no data files at run time.
fn environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(|| {
        let mut env = Environment::new();
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        env.add_filter("description", |text: String| escape::description(&text));
        env.add_filter("record", |text: String| escape::record(&text));
        for (name, source) in [
            ("unit.service", include_str!("../../templates/unit.service")),
            ("explain.txt", include_str!("../../templates/explain.txt")),
        ] {
            env.add_template(name, source)
                .expect("templates are checked by the tests");
        }
        env
    })
}

fn render(template: &str, context: impl serde::Serialize) -> Result<String, crate::error::Error> {
    environment()
        .get_template(template)
        .and_then(|t| t.render(minijinja::value::Serde(&context)))
        .map_err(|err| crate::error::Error::Render {
            what: format!("rendering {template}"),
            why: format!("{err:#}"),
        })
}
