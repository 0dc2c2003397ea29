//! LIST, basic (RFC 9051 §6.3.9) and extended (RFC 5258, RFC 5819
//! LIST-STATUS, RFC 6154 SPECIAL-USE).

use super::commands::status_items;
use super::lexer::{Cursor, PResult};
use crate::command::{CommandBody, ListCommand};

pub(super) fn list(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let mut cmd = ListCommand::default();
    c.sp("Expected SP after LIST")?;
    if c.peek() == Some(b'(') {
        cmd.extended = true;
        selection_options(c, &mut cmd)?;
        c.sp("Expected SP after selection options")?;
    }
    cmd.reference = c.list_reference()?;
    c.sp("Expected SP and mailbox pattern")?;
    if c.eat(b'(') {
        cmd.extended = true;
        loop {
            cmd.patterns.push(c.list_mailbox()?);
            if c.eat(b')') {
                break;
            }
            c.sp("Expected SP or ')' in pattern list")?;
        }
    } else {
        cmd.patterns.push(c.list_mailbox()?);
    }
    if c.eat(b' ') {
        if !c.eat_keyword("RETURN") {
            return Err("Expected RETURN after mailbox pattern".into());
        }
        cmd.extended = true;
        c.sp("Expected SP after RETURN")?;
        return_options(c, &mut cmd)?;
    }
    Ok(CommandBody::List(cmd))
}

fn selection_options(c: &mut Cursor<'_>, cmd: &mut ListCommand) -> PResult<()> {
    c.expect(b'(', "Expected '('")?;
    if !c.eat(b')') {
        loop {
            let w = c.word("Expected selection option")?.to_ascii_uppercase();
            match w.as_str() {
                "SUBSCRIBED" => cmd.selection.subscribed = true,
                "REMOTE" => cmd.selection.remote = true,
                "RECURSIVEMATCH" => cmd.selection.recursive_match = true,
                "SPECIAL-USE" => cmd.selection.special_use = true,
                // RFC 5258 §3: unrecognised selection options are a BAD.
                _ => return Err("Unknown LIST selection option".into()),
            }
            if c.eat(b')') {
                break;
            }
            c.sp("Expected SP or ')' in selection options")?;
        }
    }
    // RFC 5258 §3.1: RECURSIVEMATCH alone (or with only REMOTE) is a BAD.
    let sel = &cmd.selection;
    if sel.recursive_match && !sel.subscribed && !sel.special_use {
        return Err("RECURSIVEMATCH needs another selection option".into());
    }
    Ok(())
}

fn return_options(c: &mut Cursor<'_>, cmd: &mut ListCommand) -> PResult<()> {
    c.expect(b'(', "Expected '(' after RETURN")?;
    if c.eat(b')') {
        return Ok(());
    }
    loop {
        let w = c.word("Expected return option")?.to_ascii_uppercase();
        match w.as_str() {
            "SUBSCRIBED" => cmd.returns.subscribed = true,
            "CHILDREN" => cmd.returns.children = true,
            "SPECIAL-USE" => cmd.returns.special_use = true,
            "STATUS" => {
                c.sp("Expected SP after STATUS")?;
                cmd.returns.status = Some(status_items(c)?);
            }
            _ => return Err("Unknown LIST return option".into()),
        }
        if c.eat(b')') {
            return Ok(());
        }
        c.sp("Expected SP or ')' in return options")?;
    }
}
