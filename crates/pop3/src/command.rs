//! POP3 command parsing (sans-I/O): one line in, one [`Command`] out.
//!
//! Grammar: RFC 1939 §3 and RFC 2449 §3 (`keyword *(SP param) CRLF`,
//! keywords case-insensitive). Parsing is a little lenient about repeated
//! spaces between arguments, never about their number or form.

/// A parsed client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    User(String),
    /// The password is the rest of the line after `PASS `: RFC 1939 §7
    /// allows spaces in it since PASS has exactly one argument.
    Pass(String),
    /// `AUTH` alone lists the mechanisms (a pre-RFC 5034 habit of some
    /// clients); otherwise a mechanism and an optional initial response.
    Auth {
        mechanism: Option<String>,
        initial_response: Option<String>,
    },
    Apop,
    Capa,
    Stls,
    Quit,
    Stat,
    List(Option<u32>),
    Retr(u32),
    Dele(u32),
    Noop,
    Rset,
    Top(u32, u64),
    Uidl(Option<u32>),
}

/// Why a line is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown command")]
    Unknown,
    #[error("{0}")]
    Syntax(&'static str),
}

/// Parses one command line; `line` may still carry its CRLF.
pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
    let line = mailroom_net::trim_line_ending(line);
    let (keyword, rest) = match line.iter().position(|&b| b == b' ') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, &line[line.len()..]),
    };
    let keyword = std::str::from_utf8(keyword).map_err(|_| ParseError::Unknown)?;
    let upper = keyword.to_ascii_uppercase();
    let args = || -> Result<Vec<&str>, ParseError> {
        let text = std::str::from_utf8(rest).map_err(|_| ParseError::Syntax("arguments must be UTF-8"))?;
        Ok(text.split(' ').filter(|s| !s.is_empty()).collect())
    };
    let none = |cmd: Command| -> Result<Command, ParseError> {
        if args()?.is_empty() {
            Ok(cmd)
        } else {
            Err(ParseError::Syntax("no arguments expected"))
        }
    };
    match upper.as_str() {
        "USER" => match args()?.as_slice() {
            [name] => Ok(Command::User((*name).to_string())),
            _ => Err(ParseError::Syntax("usage: USER name")),
        },
        "PASS" => {
            let text = std::str::from_utf8(rest).map_err(|_| ParseError::Syntax("password must be UTF-8"))?;
            if text.is_empty() {
                return Err(ParseError::Syntax("usage: PASS password"));
            }
            Ok(Command::Pass(text.to_string()))
        }
        "AUTH" => match args()?.as_slice() {
            [] => Ok(Command::Auth {
                mechanism: None,
                initial_response: None,
            }),
            [mech] => Ok(Command::Auth {
                mechanism: Some((*mech).to_string()),
                initial_response: None,
            }),
            [mech, ir] => Ok(Command::Auth {
                mechanism: Some((*mech).to_string()),
                initial_response: Some((*ir).to_string()),
            }),
            _ => Err(ParseError::Syntax("usage: AUTH mechanism [initial-response]")),
        },
        "APOP" => Ok(Command::Apop),
        "CAPA" => none(Command::Capa),
        "STLS" => none(Command::Stls),
        "QUIT" => none(Command::Quit),
        "STAT" => none(Command::Stat),
        "NOOP" => none(Command::Noop),
        "RSET" => none(Command::Rset),
        "LIST" => optional_msg(&args()?).map(Command::List),
        "UIDL" => optional_msg(&args()?).map(Command::Uidl),
        "RETR" => one_msg(&args()?).map(Command::Retr),
        "DELE" => one_msg(&args()?).map(Command::Dele),
        "TOP" => match args()?.as_slice() {
            [msg, lines] => Ok(Command::Top(
                number(msg).ok_or(ParseError::Syntax("invalid message number"))?,
                number(lines).ok_or(ParseError::Syntax("invalid line count"))?,
            )),
            _ => Err(ParseError::Syntax("usage: TOP msg lines")),
        },
        _ => Err(ParseError::Unknown),
    }
}

/// A non-negative decimal number (digits only: no sign, no spaces).
fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn one_msg(args: &[&str]) -> Result<u32, ParseError> {
    match args {
        [msg] => number(msg).ok_or(ParseError::Syntax("invalid message number")),
        _ => Err(ParseError::Syntax("exactly one message number expected")),
    }
}

fn optional_msg(args: &[&str]) -> Result<Option<u32>, ParseError> {
    match args {
        [] => Ok(None),
        [msg] => number(msg)
            .map(Some)
            .ok_or(ParseError::Syntax("invalid message number")),
        _ => Err(ParseError::Syntax("at most one message number expected")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Command, ParseError> {
        parse(s.as_bytes())
    }

    #[test]
    fn keywords_are_case_insensitive() {
        assert_eq!(p("stat\r\n"), Ok(Command::Stat));
        assert_eq!(p("Quit\n"), Ok(Command::Quit));
        assert_eq!(p("CAPA"), Ok(Command::Capa));
        assert_eq!(p("noop\r\n"), Ok(Command::Noop));
        assert_eq!(p("STLS\r\n"), Ok(Command::Stls));
        assert_eq!(p("rset\r\n"), Ok(Command::Rset));
    }

    #[test]
    fn message_arguments() {
        assert_eq!(p("LIST\r\n"), Ok(Command::List(None)));
        assert_eq!(p("LIST 3\r\n"), Ok(Command::List(Some(3))));
        assert_eq!(p("uidl 12\r\n"), Ok(Command::Uidl(Some(12))));
        assert_eq!(p("RETR 1\r\n"), Ok(Command::Retr(1)));
        assert_eq!(p("DELE 0\r\n"), Ok(Command::Dele(0)));
        assert_eq!(p("TOP 2 0\r\n"), Ok(Command::Top(2, 0)));
        assert_eq!(p("TOP 2  10\r\n"), Ok(Command::Top(2, 10)));
        for bad in [
            "RETR\r\n",
            "RETR x\r\n",
            "RETR -1\r\n",
            "RETR +1\r\n",
            "RETR 1 2\r\n",
            "RETR 99999999999\r\n",
            "LIST 1 2\r\n",
            "TOP 1\r\n",
            "TOP 1 -1\r\n",
            "STAT 1\r\n",
            "QUIT now\r\n",
        ] {
            assert!(matches!(p(bad), Err(ParseError::Syntax(_))), "{bad}");
        }
    }

    #[test]
    fn authorization_commands() {
        assert_eq!(
            p("USER alice@example.test\r\n"),
            Ok(Command::User("alice@example.test".into()))
        );
        assert!(p("USER\r\n").is_err());
        assert!(p("USER a b\r\n").is_err());
        // Spaces belong to the password, trailing ones included.
        assert_eq!(p("PASS  two words \r\n"), Ok(Command::Pass(" two words ".into())));
        assert!(p("PASS\r\n").is_err());
        assert!(p("PASS \r\n").is_err());
        assert!(matches!(parse(b"PASS \xff\r\n"), Err(ParseError::Syntax(_))));
        assert_eq!(
            p("AUTH\r\n"),
            Ok(Command::Auth {
                mechanism: None,
                initial_response: None
            })
        );
        assert_eq!(
            p("AUTH PLAIN AGEAYg==\r\n"),
            Ok(Command::Auth {
                mechanism: Some("PLAIN".into()),
                initial_response: Some("AGEAYg==".into())
            })
        );
        assert!(p("AUTH PLAIN a b\r\n").is_err());
        assert_eq!(p("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"), Ok(Command::Apop));
    }

    #[test]
    fn unknown_and_garbage() {
        assert_eq!(p("LAST\r\n"), Err(ParseError::Unknown));
        assert_eq!(p("\r\n"), Err(ParseError::Unknown));
        assert_eq!(p(" STAT\r\n"), Err(ParseError::Unknown));
        assert_eq!(parse(b"ST\xffT\r\n"), Err(ParseError::Unknown));
        assert_eq!(p("GET / HTTP/1.1\r\n"), Err(ParseError::Unknown));
    }
}
