"""The page a person sees at / in a real browser."""

from playwright.sync_api import Page, expect


def test_home_page_shows_between_and_help_now(page: Page, server_url):
    page.goto(server_url + "/")
    expect(page.get_by_role("heading", name="Between", exact=True)).to_be_visible()
    page.get_by_role("link", name="Help now").click()
    expect(page.get_by_role("link", name="988")).to_have_attribute("href", "tel:988")
    expect(page.get_by_text("not an emergency service")).to_be_visible()
