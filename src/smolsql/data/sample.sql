-- smolsql's bundled sample database: a small record shop.
-- Built into a SQLite file on first use (`--db sample`); the tests use it too.
CREATE TABLE artist (
  artist_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  country TEXT,
  formed_year INTEGER
);
CREATE TABLE album (
  album_id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  artist_id INTEGER NOT NULL REFERENCES artist(artist_id),
  release_year INTEGER,
  genre TEXT,
  price REAL
);
CREATE TABLE customer (
  customer_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  city TEXT,
  joined DATE
);
CREATE TABLE purchase (
  purchase_id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customer(customer_id),
  album_id INTEGER NOT NULL REFERENCES album(album_id),
  quantity INTEGER NOT NULL DEFAULT 1,
  purchased_on DATE
);
INSERT INTO artist VALUES
  (1, 'The Quiet Lanterns', 'Ireland', 1998),
  (2, 'Mira Solano', 'Spain', 2009),
  (3, 'Northbound Static', 'Canada', 2001),
  (4, 'Ada & The Gears', 'United Kingdom', 2015),
  (5, 'Kofi Mensah Trio', 'Ghana', 1992);
INSERT INTO album VALUES
  (1, 'Harbour Lights', 1, 2003, 'Folk', 12.5),
  (2, 'Paper Boats', 1, 2011, 'Folk', 14.0),
  (3, 'Luz de Agosto', 2, 2012, 'Pop', 11.0),
  (4, 'Frequencies', 3, 2004, 'Rock', 13.5),
  (5, 'Cold Signal', 3, 2019, 'Rock', 15.0),
  (6, 'Clockwork Hearts', 4, 2018, 'Electronic', 16.0),
  (7, 'Accra Evenings', 5, 1995, 'Jazz', 18.0),
  (8, 'Second Line', 5, 2007, 'Jazz', 17.5);
INSERT INTO customer VALUES
  (1, 'Ines Duarte', 'Lisbon', '2021-03-14'),
  (2, 'Tomasz Nowak', 'Krakow', '2022-07-01'),
  (3, 'Grace Obi', 'Lagos', '2020-11-23'),
  (4, 'Liam Byrne', 'Dublin', '2023-01-09'),
  (5, 'Sofia Rossi', 'Lisbon', '2021-09-30');
INSERT INTO purchase VALUES
  (1, 1, 3, 1, '2023-02-01'),
  (2, 1, 1, 2, '2023-02-15'),
  (3, 2, 4, 1, '2023-03-03'),
  (4, 3, 7, 1, '2023-03-20'),
  (5, 3, 8, 1, '2023-04-02'),
  (6, 4, 2, 1, '2023-05-11'),
  (7, 5, 6, 3, '2023-05-29'),
  (8, 5, 3, 1, '2023-06-17'),
  (9, 2, 5, 2, '2023-07-04');
