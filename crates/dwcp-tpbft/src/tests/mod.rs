mod certificates;
mod evidence;
mod policy;
mod sim;
mod timeliness;
