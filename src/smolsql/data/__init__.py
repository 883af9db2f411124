"""Where examples and databases come from: Spider, gretel and files (`loaders`), the bundled
sample database (`sample`)."""
