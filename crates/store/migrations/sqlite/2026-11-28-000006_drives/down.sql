DROP TABLE guidance_visits;
DROP TABLE drives;
