//! Outgoing e-mail behind one trait. The sender shipped here logs every
//! message and, with `STREAMSHARE_MAIL_OUTBOX`, writes it as a file (one
//! `.eml` per message, like Django's file-based backend): enough for
//! development and for a relay that picks files up. An SMTP or provider
//! sender is another implementation of [`MailSender`].

use std::path::PathBuf;

use anyhow::Context;

/// One message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

pub trait MailSender: Send + Sync {
    fn send(&self, mail: &Mail) -> anyhow::Result<()>;
}

/// Logs each message; writes it into `outbox` when set.
pub struct OutboxMailer {
    outbox: Option<PathBuf>,
}

impl OutboxMailer {
    pub fn new(outbox: Option<PathBuf>) -> Self {
        Self { outbox }
    }
}

impl MailSender for OutboxMailer {
    fn send(&self, mail: &Mail) -> anyhow::Result<()> {
        tracing::info!(to = %mail.to, subject = %mail.subject, body = %mail.body, "e-mail");
        let Some(dir) = &self.outbox else {
            return Ok(());
        };
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let name = format!(
            "{}-{}.eml",
            mongodb::bson::oid::ObjectId::new().to_hex(),
            mail.to.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        let text = format!(
            "To: {}\r\nSubject: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
            mail.to, mail.subject, mail.body
        );
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    }
}
