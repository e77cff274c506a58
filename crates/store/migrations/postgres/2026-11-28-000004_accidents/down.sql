DROP TABLE accidents;
