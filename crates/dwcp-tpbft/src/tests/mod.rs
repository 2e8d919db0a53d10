mod attest;
mod certificates;
mod evidence;
mod group;
mod policy;
mod sim;
mod timeliness;
