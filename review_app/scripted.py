"""A reviewer's work in the browser, scripted and counted (playwright pages).

The browser tests and bench/review.py drive the app through these, so the actions they report
are the ones really spent: every click and key press is counted as it is made. Copying from the
source and pasting counts as a reviewer does it: select the text (1 click, a drag), Ctrl+C,
click the box, Ctrl+V: 4 actions, whatever the length of the text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Counted:
    page: Any  # playwright.sync_api.Page
    clicks: int = 0
    keys: int = 0
    log: list[str] = field(default_factory=list)

    @property
    def actions(self) -> int:
        return self.clicks + self.keys

    def click(self, locator: Any, what: str = "") -> None:
        locator.click()
        self.clicks += 1
        self.log.append(f"click {what}".strip())

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.keys += 1
        self.log.append(f"key {key}")

    def type(self, text: str, delay: int = 0) -> None:
        self.page.keyboard.type(text, delay=delay)
        self.keys += len(text)
        self.log.append(f"type {text!r}")

    def paste(self, box: Any, text: str) -> None:
        box.fill(text)
        self.clicks += 2
        self.keys += 2
        self.log.append(f"copy and paste {len(text)} characters")

    def button(self, name: str) -> None:
        """Press the first button whose label starts with `name`, then wait for the re-run."""
        self.click(self.page.get_by_role("button", name=name, exact=False).first, name)
        settle(self.page)

    def choose(self, label: str, option_filter: str) -> None:
        """Pick an option of a select box: click it, type enough to filter, Enter."""
        self.click(self.page.get_by_label(label), label)
        self.type(option_filter)
        self.press("Enter")


def settle(page: Any) -> None:
    """Wait until the re-run a click started has drawn the page again."""
    page.wait_for_timeout(250)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden")


def wait_text(page: Any, text: str, timeout: float = 30_000) -> None:
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)


def fix_one_cell(page: Any) -> Counted:
    """One wrong cell: take the one-cell repair offered beside its grid (after comparing it with
    the printed row shown with it), then Save fix."""
    counted = Counted(page)
    wait_text(page, "One cell settles every failing identity")
    counted.button("Source prints")
    wait_text(page, "All hard identities hold")
    counted.button("Save fix")
    wait_text(page, "saved as a fix")
    return counted


def finish_unread_section(
    page: Any, section_text: str, split_row: tuple[str, str] | None = None, take: str = "Take ✓"
) -> Counted:
    """An unread section 三: copy its text from the source into the paste box, read the whole
    section from it, take it; for a row whose digits ran together (`split_row`: its label as the
    row picker shows it, and the digits), paste the digits, offer splits and take the one that
    balances (`take`: the first marked ✓, or the one whose digits the source shows); then Save fix."""
    counted = Counted(page)
    box = page.get_by_label("Paste its printed digits")
    counted.paste(box, section_text)
    counted.choose("Row", "三: the whole")
    counted.button("Offer splits")
    counted.button("Take the whole section")
    wait_text(page, "Your changes")
    if split_row is not None:
        label, digits = split_row
        counted.paste(box, digits)
        counted.choose("Row", label)
        counted.button("Offer splits")
        counted.button(take)
    wait_text(page, "All hard identities hold")
    counted.button("Save fix")
    wait_text(page, "saved as a fix")
    return counted
